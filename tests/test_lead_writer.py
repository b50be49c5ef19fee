"""The lead writer: how a batch is sorted (pure), and what one batch stores on each database."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future
from datetime import datetime, timezone
from typing import Any

import psycopg
import pytest
from sqlalchemy import select, text

from hub.ingestion.intake import Intake
from hub.ingestion.sources import SourceRules
from hub.ingestion.writer import NewLead, StoredLead, plan_batch
from hub.models import Dispatch, Lead
from hub.testing.hub import add_delivery, add_source, make_test_hub
from hub.testing.services import postgres_database

NOW = datetime(2026, 12, 3, 12, tzinfo=timezone.utc)


def new_lead(source_id: int = 1, email: str = "a@example.com", key: str | None = None) -> NewLead:
    rules = SourceRules(source_id, "form", "", "", (), ("email",), 24.0, None, ())
    return NewLead(rules, {"email": email}, email, key, NOW)


def test_a_batch_is_sorted_into_repeats_duplicates_and_fresh_leads() -> None:
    earlier = StoredLead(7, "accepted", None, repeat=True)
    leads = [
        new_lead(email="a@x", key="k1"),  # 0 fresh
        new_lead(email="a@x"),  # 1 a duplicate of 0, in this batch
        new_lead(email="z@x", key="k1"),  # 2 the same key as 0: 0's answer
        new_lead(email="b@x", key="old"),  # 3 a key stored before: that lead's answer
        new_lead(email="c@x"),  # 4 a duplicate of a stored lead
        new_lead(source_id=2, email="a@x", key="k1"),  # 5 another source: its own keys, its own duplicates
    ]
    plan = plan_batch(leads, earlier={0: None, 2: None, 3: earlier, 5: None}, earlier_duplicate={4: 3})
    assert plan.fresh == [0, 1, 4, 5]
    assert plan.repeats == {2: 0} and plan.answered == {3: earlier}
    assert plan.duplicate_of_index == {1: 0} and plan.duplicate_of == {4: 3}


def test_a_stored_duplicate_within_the_batch_does_not_make_later_ones_fresh() -> None:
    leads = [new_lead(email="a@x"), new_lead(email="a@x"), new_lead(email="a@x")]
    plan = plan_batch(leads, earlier={}, earlier_duplicate={0: 11, 1: 11, 2: 11})
    assert plan.duplicate_of == {0: 11, 1: 11, 2: 11} and plan.fresh == [0, 1, 2]


@pytest.fixture(params=["sqlite", "postgresql"])
def hub_env(request) -> Iterator[dict[str, str]]:  # type: ignore[no-untyped-def]
    with contextlib.ExitStack() as stack:
        yield {} if request.param == "sqlite" else {"HUB_DATABASE_URL": stack.enter_context(postgres_database())}


@contextlib.contextmanager
def writes_held(hub) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """Hold off every lead writer until the block ends, so what is submitted meanwhile is one batch."""
    with hub.engine.connect() as conn:
        conn.begin()  # on SQLite, BEGIN IMMEDIATE under the write lock: that is enough
        if hub.engine.dialect.name == "postgresql":
            conn.execute(text("LOCK TABLE lead IN EXCLUSIVE MODE"))
        yield
        conn.rollback()


def test_one_batch_stores_answers_and_dispatches_as_the_plan_says(tmp_path, hub_env) -> None:  # type: ignore[no-untyped-def]
    hub = make_test_hub(tmp_path, env=hub_env)
    add_source(hub, "form", [{"name": "email", "type": "email"}, {"name": "postcode", "type": "string"}],
               api_key="k", dedupe_on=["email"])
    add_delivery(hub, "all", sources=["form"], channel="http_post", config={"url": "http://127.0.0.1:9/all"})
    add_delivery(hub, "sw", sources=["form"], channel="http_post", config={"url": "http://127.0.0.1:9/sw"},
                 filter="postcode startswith 'SW'")
    sent: list[int] = []
    intake = Intake(hub, lambda ids, _delay: sent.extend(ids))
    before = [intake.receive("form", {"email": "old@example.com"}, "k", "old-key"),
              intake.receive("form", {"email": "seen@example.com"}, "k")]
    posts: list[tuple[dict[str, Any], str | None]] = [
        ({"email": "a@example.com", "postcode": "SW1A 1AA"}, "k1"),
        ({"email": "a@example.com"}, None),  # a duplicate of the first, in the same batch
        ({"email": "z@example.com"}, "k1"),  # a retry of the first
        ({"email": "b@example.com"}, "old-key"),  # a retry of a lead stored before
        ({"email": "seen@example.com"}, None),  # a duplicate of a lead stored before
        ({"email": "c@example.com"}, None),
    ]
    sizes: list[int] = []
    store = intake.writer._batches.handle
    intake.writer._batches.handle = lambda leads: (sizes.append(len(leads)), store(leads))[1]
    with writes_held(hub):
        first = intake.writer.submit(intake.check(intake.sources.get("form"), "form", {"email": "x@example.com"},
                                                  "k", None))  # picked up alone; it waits for the lock
        time.sleep(0.3)
        futures: list[Future[StoredLead]] = [
            intake.writer.submit(intake.check(intake.sources.get("form"), "form", fields, "k", key))
            for fields, key in posts]
    first.result(timeout=30)
    a, a_again, k1_again, old_again, seen_again, c = [f.result(timeout=30) for f in futures]
    intake.close()
    assert sizes == [1, 6]
    assert (a.status, a.repeat, len(a.due)) == ("accepted", False, 2)  # both deliveries, the filter matched
    assert (a_again.status, a_again.duplicate_of, a_again.due) == ("duplicate", a.lead_id, [])
    assert (k1_again.lead_id, k1_again.repeat) == (a.lead_id, True)
    assert (old_again.lead_id, old_again.repeat) == (before[0].body["lead_id"], True)
    assert (seen_again.status, seen_again.duplicate_of) == ("duplicate", before[1].body["lead_id"])
    assert (c.status, len(c.due)) == ("accepted", 1)  # the filter skipped the SW delivery
    with hub.engine.connect() as conn:
        leads = conn.execute(select(Lead.id, Lead.status).order_by(Lead.id)).all()
        skipped = conn.execute(select(Dispatch.lead_id).where(Dispatch.status == "skipped")).scalars().all()
    stored = [a.lead_id, a_again.lead_id, seen_again.lead_id, c.lead_id]
    assert len(leads) == 7 and stored == sorted(stored)  # the batch's ids in its order
    assert set(skipped) == {before[0].body["lead_id"], before[1].body["lead_id"], first.result().lead_id,
                            c.lead_id}
    assert set(a.due + c.due) <= set(sent)  # sent to the broker once committed
    hub.engine.dispose()


def test_a_key_committed_by_another_process_meanwhile_gets_that_leads_answer(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # The unique index decides: the writer's insert waits for the other transaction, fails, and the
    # lead, stored alone again, finds the winner.
    with postgres_database() as url:
        hub = make_test_hub(tmp_path, env={"HUB_DATABASE_URL": url})
        source_id = add_source(hub, "form", [{"name": "email", "type": "email"}], api_key="k")
        intake = Intake(hub, lambda *_: None)
        plain = url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(plain) as other:
            (winner,) = other.execute(
                "INSERT INTO lead (source_id, received_at, status, idempotency_key, fields) "
                "VALUES (%s, now(), 'accepted', 'same-key', '{}') RETURNING id", (source_id,)).fetchone()
            answer: list[Any] = []
            thread = threading.Thread(target=lambda: answer.append(
                intake.receive("form", {"email": "a@example.com"}, "k", "same-key")))
            thread.start()
            with psycopg.connect(plain, autocommit=True) as watcher:  # until the writer waits on the index
                deadline = time.monotonic() + 20
                while not watcher.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                          "AND datname = current_database()").fetchone()[0]:
                    assert time.monotonic() < deadline, "the writer never waited for the other transaction"
                    time.sleep(0.02)
            other.commit()
            thread.join(timeout=20)
        intake.close()
        assert answer[0].status_code == 202 and answer[0].body["lead_id"] == winner
        with hub.engine.connect() as conn:
            assert conn.execute(select(Lead.id)).scalars().all() == [winner]
        hub.engine.dispose()
