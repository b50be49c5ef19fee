"""Production mode for real: PostgreSQL with Redis or RabbitMQ, `serve` and `worker` as separate processes."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlmodel import Session, select

from hub.models import Dispatch
from hub.testing.hub import add_delivery, add_source, make_test_hub, wait_until
from hub.testing.process import HubProcess
from hub.testing.services import postgres_database, require_service

BROKERS = {
    "redis": "redis://127.0.0.1:6379/15",
    "rabbitmq": "amqp://guest:guest@127.0.0.1:5672/%2F",
}


def forget_queue(kind: str, url: str, queue: str) -> None:
    if kind == "redis":
        import redis

        client = redis.Redis.from_url(url)
        keys = list(client.scan_iter(f"dramatiq:{queue}*"))
        if keys:
            client.delete(*keys)
    else:
        import pika

        connection = pika.BlockingConnection(pika.URLParameters(url))
        channel = connection.channel()
        for name in (queue, f"{queue}.DQ", f"{queue}.XQ"):
            channel.queue_delete(name)
        connection.close()


@pytest.mark.parametrize("kind", sorted(BROKERS))
def test_serve_and_worker_deliver_through_a_real_broker_even_when_the_worker_starts_late(kind, tmp_path, http_peer):
    require_service(kind)
    with postgres_database() as database:
        run_scenario(kind, database, tmp_path, http_peer)


def run_scenario(kind: str, database: str, tmp_path, http_peer) -> None:  # type: ignore[no-untyped-def]
    url = BROKERS[kind]
    queue = f"leadhub_test_{uuid.uuid4().hex[:8]}"
    env = {"HUB_DATA_DIR": str(tmp_path), "HUB_BROKER_URL": url, "HUB_QUEUE_NAME": queue, "HUB_DATABASE_URL": database,
           "HUB_SWEEP_INTERVAL": "0.2", "HUB_SWEEP_GRACE": "5"}
    hub = make_test_hub(tmp_path, env={"HUB_BROKER_URL": url, "HUB_DATABASE_URL": database})
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
        forget_queue(kind, url, queue)
        hub.engine.dispose()
