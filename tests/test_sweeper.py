"""The sweeper re-sends what is due and untouched, once per round, however many pages that takes."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlmodel import Session

from hub.delivery.sweeper import sweep
from hub.models import Dispatch, Lead, utcnow
from hub.testing.hub import add_delivery, add_source, make_test_hub


def store_dispatches(hub, rows: list[dict]) -> None:  # type: ignore[no-untyped-def]
    """One lead per row, with one dispatch having the row's columns."""
    source_id = add_source(hub, "form", [{"name": "email", "type": "email"}])
    delivery_id = add_delivery(hub, "buyer", sources=["form"], channel="http_post", config={"url": "http://127.0.0.1:9"})
    with Session(hub.engine) as session:
        leads = [Lead(source_id=source_id, fields={"email": f"{n}@example.com"}) for n in range(len(rows))]
        session.add_all(leads)
        session.flush()
        session.add_all(Dispatch(lead_id=lead.id, delivery_id=delivery_id, **row) for lead, row in zip(leads, rows))
        session.commit()


def test_a_round_with_no_grace_sends_each_due_dispatch_once_across_pages(tmp_path):
    hub = make_test_hub(tmp_path)
    store_dispatches(hub, [{"status": "pending", "next_attempt_at": utcnow() - timedelta(seconds=1)}] * 25)
    sent: Counter[int] = Counter()
    since = utcnow()
    pages = [sweep(hub.engine, lambda ids, _delay: sent.update(ids), 0.0, limit=10, since=since) for _ in range(5)]
    assert pages == [10, 10, 5, 0, 0]
    assert len(sent) == 25 and set(sent.values()) == {1}
    # The next round (a later ``since``) finds them due again: a lost message costs one round.
    assert sweep(hub.engine, lambda ids, _delay: sent.update(ids), 0.0, limit=100) == 25


def test_leased_finished_and_not_yet_due_dispatches_are_left_alone(tmp_path):
    hub = make_test_hub(tmp_path)
    past, now = utcnow() - timedelta(seconds=1), utcnow()
    store_dispatches(hub, [
        {"status": "pending", "next_attempt_at": past, "leased_until": now + timedelta(minutes=5)},  # being tried
        {"status": "failed", "next_attempt_at": now + timedelta(hours=1)},  # its retry is later
        {"status": "accepted", "next_attempt_at": None},
        {"status": "dead", "next_attempt_at": past},
        {"status": "failed", "next_attempt_at": past, "leased_until": past},  # a dead worker's lease ran out
    ])
    sent: list[int] = []
    assert sweep(hub.engine, lambda ids, _delay: sent.extend(ids), 0.0) == 1 and sent == [5]
