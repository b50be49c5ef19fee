"""Production mode for real: PostgreSQL with Redis or RabbitMQ, `serve` and `worker` as separate processes."""

from __future__ import annotations

import httpx
import pytest
from sqlmodel import Session, select

from hub.models import Dispatch
from hub.testing.hub import add_delivery, add_source, make_test_hub, wait_until
from hub.testing.process import HubProcess
from hub.testing.services import BROKER_URLS, broker_queue, postgres_database


@pytest.mark.parametrize("kind", sorted(BROKER_URLS))
def test_serve_and_worker_deliver_through_a_real_broker_even_when_the_worker_starts_late(kind, tmp_path, http_peer):
    with postgres_database() as database, broker_queue(kind) as broker:
        run_scenario(broker, database, tmp_path, http_peer)


def run_scenario(broker: dict[str, str], database: str, tmp_path, http_peer) -> None:  # type: ignore[no-untyped-def]
    env = {"HUB_DATA_DIR": str(tmp_path), **broker, "HUB_DATABASE_URL": database,
           "HUB_SWEEP_INTERVAL": "0.2", "HUB_SWEEP_GRACE": "5"}
    hub = make_test_hub(tmp_path, env={**broker, "HUB_DATABASE_URL": database})
    add_source(hub, "form", [{"name": "email", "type": "email", "required": True}], api_key="k")
    add_delivery(hub, "buyer", sources=["form"], channel="http_post", config={"url": f"{http_peer.url}/leads"})
    server = HubProcess(env, tmp_path / "serve.log").start()
    worker = HubProcess(env, tmp_path / "worker.log", command="worker")
    try:
        # No worker yet: the message waits in the broker, the lead waits in the database.
        for n in range(3):
            answer = httpx.post(f"{server.url}/webhooks/form?key=k", json={"email": f"a{n}@example.com"})
            assert answer.status_code == 202
        assert http_peer.requests == []
        worker.start()
        http_peer.wait_for(3, timeout=30)

        def all_accepted() -> bool:
            with Session(hub.engine) as session:
                return set(session.exec(select(Dispatch.status))) == {"accepted"}

        wait_until(all_accepted, timeout=15)
        assert sorted(r.json()["email"] for r in http_peer.requests) == [f"a{n}@example.com" for n in range(3)]
    finally:
        worker.stop()
        server.stop()
        hub.engine.dispose()
