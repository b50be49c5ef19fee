"""On PostgreSQL the hot paths wait for the server as few times as their statements allow.

A delay line between the hub and PostgreSQL holds every answer for ``DELAY``
seconds, as a far-away database would, so each round trip shows as time: a
ledger batch (records and claims) is one round trip, a lead writer's batch two,
whatever it holds. Each used to be one per statement, which is what the
webhook's p99 and the worker's rate paid for (see README "Performance").
"""

from __future__ import annotations

import queue
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import select, text

from hub.db import KeptConnection, make_engine
from hub.delivery.runner import DeliveryRunner
from hub.delivery.service import make_http_client
from hub.driver_sql import DriverSql
from hub.ingestion.intake import Intake
from hub.models import Attempt, Lead
from hub.testing.hub import add_delivery, add_source, make_test_hub, store_leads
from hub.testing.services import postgres_database

DELAY = 0.1  # seconds each answer of the server is held


class DelayLine:
    """A TCP proxy to PostgreSQL that delivers everything the server sends ``delay`` seconds late."""

    def __init__(self, upstream: tuple[str, int] = ("127.0.0.1", 5432), delay: float = DELAY) -> None:
        self.upstream = upstream
        self.delay = delay
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, database_url: str) -> str:
        return database_url.replace("@127.0.0.1:5432/", f"@127.0.0.1:{self.port}/")

    def close(self) -> None:
        self.listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            for end in (client, server):  # Nagle's wait for an ACK would add 40 ms to some answers
                end.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self._pump, args=(client, server, 0.0), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, self.delay), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, target: socket.socket, delay: float) -> None:
        """Copy ``source`` to ``target``, each chunk ``delay`` after it arrived (in order, not one after another)."""
        line: queue.SimpleQueue[tuple[float, bytes]] = queue.SimpleQueue()

        def deliver() -> None:
            while True:
                due, data = line.get()
                time.sleep(max(0.0, due - time.monotonic()))
                try:
                    target.sendall(data) if data else target.shutdown(socket.SHUT_WR)
                except OSError:
                    return
                if not data:
                    return

        threading.Thread(target=deliver, daemon=True).start()
        while True:
            try:
                data = source.recv(65536)
            except OSError:
                data = b""
            line.put((time.monotonic() + delay, data))
            if not data:
                return


@pytest.fixture
def far_database(tmp_path) -> Iterator[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """A fresh PostgreSQL database: its URL, and the same database behind the delay line."""
    with postgres_database() as database:
        line = DelayLine()
        try:
            yield database, line.url(database)
        finally:
            line.close()


def round_trips(seconds: float) -> int:
    return round(seconds / DELAY)


def timed(function: Callable[..., Any], log: list[float]) -> Callable[..., Any]:
    def run(*args: Any) -> Any:
        started = time.monotonic()
        try:
            return function(*args)
        finally:
            log.append(time.monotonic() - started)

    return run


def test_a_transaction_sends_its_statements_and_commit_together(far_database) -> None:  # type: ignore[no-untyped-def]
    near, far = far_database
    engine = make_engine(far)
    sql = DriverSql("postgresql")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE probe (id SERIAL PRIMARY KEY, name TEXT UNIQUE)"))
    kept = KeptConnection(engine)
    conn = kept.get()
    started = time.monotonic()
    with sql.transaction(conn):
        ids = sql.reserve_ids(conn, "probe", 2)
        inserted = sql.send(conn, "INSERT INTO probe (name) VALUES (:a), (:b) RETURNING id", {"a": "x", "b": "y"})
        counted = sql.send(conn, "SELECT count(*) FROM probe", {})
    assert round_trips(time.monotonic() - started) == 1
    assert len({row[0] for row in ids.all() + inserted.all()}) == 4 and counted.all() == [(2,)]
    with make_engine(near).connect() as other:  # committed: another connection sees it
        assert other.execute(text("SELECT count(*) FROM probe")).scalar_one() == 2
    kept.close()
    engine.dispose()


def test_a_ledger_batch_is_one_round_trip(far_database, tmp_path, http_peer) -> None:  # type: ignore[no-untyped-def]
    near, far = far_database
    hub = make_test_hub(tmp_path, env={"HUB_DATABASE_URL": near})
    add_source(hub, "form", [{"name": "email", "type": "email"}], api_key="k")
    add_delivery(hub, "buyer", sources=["form"], channel="http_post", config={"url": f"{http_peer.url}/leads"})
    due = store_leads(hub, "form", ({"email": f"lead{n}@example.com"} for n in range(6)), "k")
    hub.engine.dispose()

    far_hub = make_test_hub(tmp_path, env={"HUB_DATABASE_URL": far})
    runner = DeliveryRunner(far_hub, make_http_client(4), lambda *_: None, threads=4)
    batches: list[float] = []
    runner.ledger.handle = timed(runner.ledger.handle, batches)
    runner.run_batch(due[:1])  # connects: not counted
    batches.clear()
    statuses = runner.run_batch(due[1:])
    runner.close()  # commits the last records
    assert {s.value for s in statuses.values()} == {"accepted"} and len(statuses) == 5
    assert len(batches) >= 2  # claims, then records (and maybe claims with records)
    assert [round_trips(seconds) for seconds in batches] == [1] * len(batches)
    with far_hub.engine.connect() as conn:
        assert len(conn.execute(select(Attempt.id)).all()) == 6
    far_hub.engine.dispose()


def test_a_lead_writer_batch_is_two_round_trips(far_database, tmp_path, http_peer) -> None:  # type: ignore[no-untyped-def]
    near, far = far_database
    hub = make_test_hub(tmp_path, env={"HUB_DATABASE_URL": near})
    add_source(hub, "form", [{"name": "email", "type": "email"}], api_key="k", dedupe_on=["email"])
    add_delivery(hub, "buyer", sources=["form"], channel="http_post", config={"url": f"{http_peer.url}/leads"})
    add_delivery(hub, "other", sources=["form"], channel="http_post", config={"url": f"{http_peer.url}/other"})
    hub.engine.dispose()
    far_hub = make_test_hub(tmp_path, env={"HUB_DATABASE_URL": far})
    due: list[int] = []
    intake = Intake(far_hub, lambda ids, _delay: due.extend(ids))
    batches: list[float] = []
    intake.writer._batches.handle = timed(intake.writer._batches.handle, batches)
    assert intake.receive("form", {"email": "first@example.com"}, "k").status_code == 202  # connects: not counted
    # An idempotency key and a dedupe key to look up, two dispatches to insert: still two round trips.
    answer = intake.receive("form", {"email": "second@example.com"}, "k", idempotency_key="retry-1")
    repeat = intake.receive("form", {"email": "second@example.com"}, "k", idempotency_key="retry-1")
    assert answer.status_code == 202 and len(answer.dispatch_ids) == 2 and len(due) == 4
    assert repeat.body == answer.body
    assert [round_trips(seconds) for seconds in batches[1:]] == [2, 2]  # the repeat: its lookup, then the COMMIT
    intake.close()
    with far_hub.engine.connect() as conn:
        assert len(conn.execute(select(Lead.id)).all()) == 2
    far_hub.engine.dispose()
