"""The broker crashes and comes back with deliveries in flight: every accepted lead still reaches the buyer.

Each test runs a private Redis or RabbitMQ (hub.testing.brokers) so that it can
SIGKILL it; PostgreSQL, `leadhub serve` and `leadhub worker` are real processes.
Redis here keeps nothing on disk, so its restart loses every queued message:
only the dispatch rows and the sweeper bring those leads back.
"""

from __future__ import annotations

import time
from collections import Counter

import httpx
import pytest
from sqlmodel import Session, select

from hub.models import Dispatch
from hub.testing.brokers import private_broker
from hub.testing.hub import add_delivery, add_source, make_test_hub, wait_until
from hub.testing.process import HubProcess
from hub.testing.services import postgres_database

FAST = {"HUB_SWEEP_INTERVAL": "0.5", "HUB_SWEEP_GRACE": "3", "HUB_RETRY_BASE_SECONDS": "0.2",
        "HUB_WORKER_THREADS": "4", "HUB_LEASE_SECONDS": "10"}


def statuses(hub) -> Counter[str]:  # type: ignore[no-untyped-def]
    with Session(hub.engine) as session:
        return Counter(session.exec(select(Dispatch.status)).all())


@pytest.mark.parametrize("kind", ["redis", "rabbitmq"])
def test_a_broker_killed_and_restarted_mid_flight_loses_no_lead(kind, tmp_path, http_peer):
    broker = private_broker(kind)
    with postgres_database() as database, broker:
        env = {"HUB_DATA_DIR": str(tmp_path), "HUB_DATABASE_URL": database, "HUB_BROKER_URL": broker.url,
               "HUB_QUEUE_NAME": "leadhub_restart", **FAST}
        hub = make_test_hub(tmp_path, env={"HUB_DATABASE_URL": database, "HUB_BROKER_URL": broker.url})
        add_source(hub, "form", [{"name": "email", "type": "email", "required": True}], api_key="k")
        add_delivery(hub, "buyer", sources=["form"], channel="http_post", max_attempts=50,
                     config={"url": f"{http_peer.url}/leads", "timeout_seconds": 5},
                     mapping=[{"target": "Email", "source": "email"}])
        http_peer.respond(status=200, json={"ok": True}, delay=0.1)  # slow, so the kill finds work in flight
        server = HubProcess(env, tmp_path / "serve.log").start()
        worker = HubProcess(env, tmp_path / "worker.log", command="worker").start()
        try:
            sent = [f"before{n}@example.com" for n in range(40)]
            for email in sent:
                assert httpx.post(f"{server.url}/webhooks/form?key=k", json={"email": email}).status_code == 202
            http_peer.wait_for(5, timeout=30)
            broker.kill()
            received_at_kill = len(http_peer.requests)

            # While the broker is down the lead is already durable, so the source still gets its 202.
            during = [f"during{n}@example.com" for n in range(10)]
            for email in during:
                answer = httpx.post(f"{server.url}/webhooks/form?key=k", json={"email": email}, timeout=30)
                assert answer.status_code == 202, answer.text
            time.sleep(1)
            broker.start()
            sent += during
            wait_until(lambda: statuses(hub)["accepted"] == len(sent), timeout=120)
            final = statuses(hub)
        finally:
            worker.stop()
            server.stop()
            hub.engine.dispose()

    received = Counter(r.json()["Email"] for r in http_peer.requests)
    assert set(received) == set(sent)  # at least once: nothing accepted was lost
    assert final == Counter({"accepted": len(sent)})
    assert received_at_kill < 40, "the broker died after the work was done: nothing was in flight"
    # A duplicate needs a lead that reached the buyer but whose outcome was not yet committed when
    # the broker died; with 4 worker threads that is at most a handful.
    duplicates = sum(received.values()) - len(sent)
    assert duplicates <= 4, f"{duplicates} duplicates"
    print(f"{kind}: accepted {len(sent)}, in flight at the kill {40 - received_at_kill}, "
          f"delivered {len(received)}, duplicates {duplicates}, dead 0")
