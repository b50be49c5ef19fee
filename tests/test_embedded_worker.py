"""The embedded default's delivery worker runs beside `leadhub serve` as a child process.

It is killed here as the OOM killer would: serve starts it again, and every
accepted lead still reaches the buyer (at least once: the tries in flight when
it died may be repeated, with the same Idempotency-Key).
"""

from __future__ import annotations

import os
import signal
import time
from collections import Counter

import httpx
from sqlmodel import Session, select

from hub.models import Dispatch
from hub.testing.hub import add_delivery, add_source, make_test_hub, wait_until
from hub.testing.process import HubProcess

THREADS = 4
ENV = {"HUB_SWEEP_INTERVAL": "0.2", "HUB_SWEEP_GRACE": "1", "HUB_LEASE_SECONDS": "3",
       "HUB_WORKER_THREADS": str(THREADS)}


def child_pids(parent: int) -> list[int]:
    """Live children of ``parent``, from /proc (the 4th field of /proc/PID/stat is the parent's pid)."""
    children = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(") ", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):  # it ended meanwhile
            continue
        if fields[1] == str(parent) and fields[0] != "Z":
            children.append(int(entry))
    return children


def test_serve_delivers_from_a_child_and_restarts_it_when_it_is_killed(tmp_path, http_peer):
    hub = make_test_hub(tmp_path)
    add_source(hub, "form", [{"name": "email", "type": "email", "required": True}], api_key="k")
    add_delivery(hub, "buyer", sources=["form"], channel="http_post",
                 config={"url": f"{http_peer.url}/leads", "timeout_seconds": 5},
                 mapping=[{"target": "Email", "source": "email"}])
    http_peer.respond(status=200, json={"ok": True}, delay=0.2)  # slow enough to kill mid-batch
    server = HubProcess({"HUB_DATA_DIR": str(tmp_path), **ENV}, tmp_path / "serve.log").start()
    try:
        assert server.proc is not None
        (child,) = child_pids(server.proc.pid)
        assert httpx.get(f"{server.url}/readyz").json()["broker"] == "ok"
        sent = [f"lead{n}@example.com" for n in range(30)]
        for email in sent:
            assert httpx.post(f"{server.url}/webhooks/form?key=k", json={"email": email}).status_code == 202
        http_peer.wait_for(THREADS, timeout=30)
        os.kill(child, signal.SIGKILL)
        in_flight_at_kill = len(http_peer.requests)

        def accepted() -> int:
            with Session(hub.engine) as session:
                return Counter(session.exec(select(Dispatch.status)).all())["accepted"]

        wait_until(lambda: accepted() == len(sent), timeout=60)
        (replacement,) = child_pids(server.proc.pid)
        assert replacement != child
        assert "delivery worker exited" in (tmp_path / "serve.log").read_text()
        # The tries ran in the child; serve's /metrics reads their outcome from the database.
        text = httpx.get(f"{server.url}/metrics").text
        assert f'leadhub_dispatches{{channel="http_post",delivery="buyer",status="accepted"}} {len(sent)}.0' in text
    finally:
        server.stop()
    received = Counter(r.json()["Email"] for r in http_peer.requests)
    assert set(received) == set(sent)  # nothing lost
    duplicates = sum(received.values()) - len(sent)
    assert duplicates <= THREADS, f"{duplicates} repeats; at most the {THREADS} tries in flight at the kill"
    assert in_flight_at_kill < len(sent)


def test_stopping_serve_stops_its_worker(tmp_path):
    make_test_hub(tmp_path)
    server = HubProcess({"HUB_DATA_DIR": str(tmp_path), **ENV}, tmp_path / "serve.log").start()
    assert server.proc is not None
    (child,) = child_pids(server.proc.pid)
    server.kill()  # even a SIGKILL: the child reads end-of-file on its stdin and exits by itself
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and os.path.exists(f"/proc/{child}") and not _zombie(child):
        time.sleep(0.1)
    assert not os.path.exists(f"/proc/{child}") or _zombie(child)


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1].startswith("Z")
    except FileNotFoundError:
        return True


def test_messages_carry_batches_of_ids_and_old_single_id_messages_still_run():
    import dramatiq
    from dramatiq.brokers.stub import StubBroker

    from hub.delivery.broker import BATCH, DispatchQueue

    broker = StubBroker()
    broker.emit_after("process_boot")
    got: list[list[int]] = []
    queue = DispatchQueue(broker, got.append, time_limit_ms=10_000, queue_name="q")
    queue.send(range(BATCH + 3))
    queue.actor.send(7)  # a message from a release that sent one id per message
    worker = dramatiq.Worker(broker, worker_threads=1)
    worker.start()
    try:
        broker.join("q")
        worker.join()
    finally:
        worker.stop()
    assert sorted(got, key=len) == [[7], list(range(BATCH, BATCH + 3)), list(range(BATCH))]
