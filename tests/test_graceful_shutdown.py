"""SIGTERM with deliveries in flight: the process finishes what it started and returns the rest.

"Finishes" means each in-flight lead ends with exactly one recorded attempt;
"returns" means the leads not yet started are delivered by the next process,
each once, without waiting for a lease to expire.
"""

from __future__ import annotations

import signal
import time
from collections import Counter

import httpx
from sqlmodel import Session, select

from hub.models import Attempt, Dispatch
from hub.testing.hub import add_delivery, add_source, make_test_hub, wait_until
from hub.testing.process import HubProcess
from hub.testing.services import broker_queue, postgres_database

SLOW_BUYER_SECONDS = 2.0
SETTINGS = {"HUB_WORKER_THREADS": "2", "HUB_SWEEP_INTERVAL": "0.5", "HUB_SWEEP_GRACE": "60",
            "HUB_LEASE_SECONDS": "120"}  # long: only a clean hand-back can explain a quick redelivery


def outcome(hub) -> tuple[Counter[str], Counter[str]]:  # type: ignore[no-untyped-def]
    """Dispatch statuses and attempt outcomes."""
    with Session(hub.engine) as session:
        return (Counter(session.exec(select(Dispatch.status)).all()),
                Counter(session.exec(select(Attempt.outcome)).all()))


def prepare(hub, http_peer) -> None:  # type: ignore[no-untyped-def]
    add_source(hub, "form", [{"name": "email", "type": "email", "required": True}], api_key="k")
    add_delivery(hub, "buyer", sources=["form"], channel="http_post",
                 config={"url": f"{http_peer.url}/leads", "timeout_seconds": 10},
                 mapping=[{"target": "Email", "source": "email"}])
    http_peer.respond(status=200, json={"ok": True}, delay=SLOW_BUYER_SECONDS)


def shut_down_mid_batch(hub, http_peer, server: HubProcess, worker: HubProcess) -> list[str]:  # type: ignore[no-untyped-def]
    """Post six leads, SIGTERM ``worker`` while two are at the buyer; check what it finished. Returns the emails."""
    sent = [f"lead{n}@example.com" for n in range(6)]
    for email in sent:
        assert httpx.post(f"{server.url}/webhooks/form?key=k", json={"email": email}).status_code == 202
    http_peer.wait_for(2, timeout=30)
    started = time.monotonic()
    # uvicorn re-raises SIGTERM once its graceful shutdown is done (systemd counts that as a clean stop).
    assert worker.terminate() in (0, -signal.SIGTERM)
    took = time.monotonic() - started
    assert took < SLOW_BUYER_SECONDS + 8, f"shutdown took {took:.1f}s"
    statuses, attempts = outcome(hub)
    assert len(http_peer.requests) == 2  # nothing new was started after SIGTERM
    assert statuses["accepted"] == 2 and attempts == Counter({"accepted": 2}), (statuses, attempts)
    return sent


def assert_each_delivered_once(hub, http_peer, sent: list[str]) -> None:  # type: ignore[no-untyped-def]
    wait_until(lambda: outcome(hub)[0]["accepted"] == len(sent), timeout=60)
    assert Counter(r.json()["Email"] for r in http_peer.requests) == Counter(sent)
    assert outcome(hub)[1] == Counter({"accepted": len(sent)})


def test_sigterm_of_a_worker_finishes_in_flight_deliveries_and_returns_the_rest(tmp_path, http_peer):
    with postgres_database() as database, broker_queue("redis") as broker:
        env = {"HUB_DATA_DIR": str(tmp_path), "HUB_DATABASE_URL": database, **broker, **SETTINGS}
        hub = make_test_hub(tmp_path, env={"HUB_DATABASE_URL": database, **broker})
        prepare(hub, http_peer)
        server = HubProcess(env, tmp_path / "serve.log").start()
        first = HubProcess(env, tmp_path / "worker-1.log", command="worker").start()
        second = None
        try:
            sent = shut_down_mid_batch(hub, http_peer, server, first)
            second = HubProcess(env, tmp_path / "worker-2.log", command="worker").start()
            assert_each_delivered_once(hub, http_peer, sent)
        finally:
            for process in (second, first, server):
                if process is not None:
                    process.stop()
            hub.engine.dispose()


def test_sigterm_of_the_embedded_hub_finishes_in_flight_deliveries(tmp_path, http_peer):
    """The embedded broker lives in memory: what was not started comes back from the dispatch rows."""
    env = {"HUB_DATA_DIR": str(tmp_path), **SETTINGS}
    hub = make_test_hub(tmp_path)
    prepare(hub, http_peer)
    server = HubProcess(env, tmp_path / "serve-1.log").start()
    again = None
    try:
        sent = shut_down_mid_batch(hub, http_peer, server, server)
        again = HubProcess(env, tmp_path / "serve-2.log").start()
        assert_each_delivered_once(hub, http_peer, sent)
    finally:
        for process in (again, server):
            if process is not None:
                process.stop()
        hub.engine.dispose()
