"""The lead writer: one thread stores the leads of many requests in one transaction (group commit).

Each request validates its lead on its own, then waits here until the lead and
its dispatches are committed: a 202 still means "on disk". Committing the
leads that arrived together in one transaction makes the lock, the BEGIN and
the COMMIT cost per batch instead of per lead, which is what bounded intake.

The statements run on the driver (hub.driver_sql). A batch's leads get their
ids before they are inserted, so on PostgreSQL a batch is two round trips
whatever it holds: every lookup with the ids, then every insert with the
COMMIT. With a round trip per statement (and the writer thread waiting for the
GIL after each), the commit wait was most of a request's p99.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from hub.batching import GroupCommit
from hub.db import KeptConnection
from hub.driver_sql import DriverSql, Rows, in_list
from hub.faults import fault_point
from hub.ingestion.sources import SourceRules
from hub.models import DispatchStatus, utcnow

BY_IDEMPOTENCY_KEY = """
SELECT id, status, duplicate_of FROM lead WHERE source_id = :source_id AND idempotency_key = :key"""

# The first accepted lead with the same dedupe key within the source's window.
EARLIER_DUPLICATE = """
SELECT id FROM lead
WHERE source_id = :source_id AND dedupe_key = :dedupe_key AND received_at >= :since AND status = 'accepted'
ORDER BY id LIMIT 1"""

INSERT_LEAD = """
INSERT INTO lead (id, source_id, received_at, status, duplicate_of, dedupe_key, idempotency_key, fields)
VALUES (:id, :source_id, :received_at, :status, :duplicate_of, :dedupe_key, :idempotency_key, :fields)"""

INSERT_DISPATCH = """
INSERT INTO dispatch (lead_id, delivery_id, status, attempts, round_attempts, next_attempt_at, last_error,
                      created_at, updated_at)
VALUES (:lead_id, :delivery_id, :status, 0, 0, :next_attempt_at, :last_error, :now, :now)"""

# The new leads' dispatches to send now (a lead this new has no others).
DUE_DISPATCHES = "SELECT id, lead_id FROM dispatch WHERE lead_id IN {ids} AND status = 'pending'"


@dataclass
class NewLead:
    """A valid lead waiting to be stored."""

    source: SourceRules
    fields: dict[str, Any]
    dedupe_key: str | None
    idempotency_key: str | None
    received_at: datetime


@dataclass
class StoredLead:
    lead_id: int
    status: str
    duplicate_of: int | None
    due: list[int] = field(default_factory=list)  # dispatches to send now
    repeat: bool = False  # the idempotency key was seen before: this is the first answer again


@dataclass
class BatchPlan:
    """What storing a batch means, once the earlier leads it refers to are known (see :func:`plan_batch`)."""

    answered: dict[int, StoredLead]  # index -> the earlier stored lead whose idempotency key it repeats
    repeats: dict[int, int]  # index -> index of the lead in this batch whose idempotency key it repeats
    fresh: list[int]  # indexes of the leads to insert, in order
    duplicate_of: dict[int, int]  # index -> id of an earlier accepted lead with its dedupe key
    duplicate_of_index: dict[int, int]  # index -> index of the lead in this batch it duplicates


def plan_batch(leads: Sequence[NewLead], earlier: dict[int, StoredLead | None],
               earlier_duplicate: dict[int, int | None]) -> BatchPlan:
    """Sort a batch's leads into repeats, duplicates and fresh ones (pure).

    ``earlier`` and ``earlier_duplicate`` hold, by index, what the database had for each lead's
    idempotency key and dedupe key (None: nothing).
    """
    plan = BatchPlan({}, {}, [], {}, {})
    first_by_key: dict[tuple[int, str], int] = {}  # idempotency key -> index of its first lead here
    first_by_fingerprint: dict[tuple[int, str], int] = {}  # dedupe key -> index of the first lead here
    for i, lead in enumerate(leads):
        key = (lead.source.id, lead.idempotency_key) if lead.idempotency_key else None
        if key and key in first_by_key:
            plan.repeats[i] = first_by_key[key]
            continue
        if key and (stored := earlier.get(i)) is not None:
            plan.answered[i] = stored
            continue
        if key:
            first_by_key[key] = i
        fingerprint = (lead.source.id, lead.dedupe_key) if lead.dedupe_key else None
        if fingerprint and fingerprint in first_by_fingerprint:
            plan.duplicate_of_index[i] = first_by_fingerprint[fingerprint]
        elif fingerprint and (duplicate := earlier_duplicate.get(i)) is not None:
            plan.duplicate_of[i] = duplicate
        elif fingerprint:
            first_by_fingerprint[fingerprint] = i
        plan.fresh.append(i)
    return plan


class LeadWriter:
    """Commits submitted leads in batches; ``after_commit`` gets each batch's newly stored leads."""

    def __init__(self, engine: Engine, after_commit: Callable[[list[tuple[NewLead, StoredLead]]], None]) -> None:
        self.engine = engine
        self.after_commit = after_commit
        self.sql = DriverSql(engine.dialect.name)
        self._conn = KeptConnection(engine)  # used by the writer thread only
        self._batches: GroupCommit[NewLead, StoredLead] = GroupCommit(
            "leadhub-lead-writer", self._write_batch, after=self._after)

    def submit(self, lead: NewLead) -> Future[StoredLead]:
        return self._batches.submit(lead)

    def write(self, lead: NewLead) -> StoredLead:
        """Store one lead and wait for the commit (from a thread; the web handler awaits :meth:`submit`)."""
        return self._batches.run(lead)

    def close(self) -> None:
        self._batches.close()
        self._conn.close()

    def _write_batch(self, leads: list[NewLead]) -> Sequence[StoredLead | BaseException]:
        try:
            results: Sequence[StoredLead | BaseException] = self._store(leads)
        except IntegrityError:
            # Another process stored a lead with one of these idempotency keys first. Alone, each
            # lead finds the winner's row and answers with it.
            results = [self._store_alone(lead) for lead in leads]
        fault_point("after-commit")  # committed, not yet answered nor sent to the broker
        return results

    def _after(self, leads: list[NewLead], results: Sequence[StoredLead | BaseException]) -> None:
        fresh = [(lead, r) for lead, r in zip(leads, results) if isinstance(r, StoredLead) and not r.repeat]
        if fresh:  # stored is stored: if this fails, the sweeper sends what was not sent
            self.after_commit(fresh)

    def _store_alone(self, lead: NewLead) -> StoredLead | BaseException:
        try:
            return self._store([lead])[0]
        except Exception as exc:
            return exc

    def _store(self, leads: list[NewLead]) -> list[StoredLead]:
        """One transaction for the batch: idempotent repeats answered, duplicates marked, the rest inserted."""
        conn = self._conn.get()
        try:
            with self.sql.transaction(conn):
                plan, stored, due = self._store_in(conn, leads)
            return _results(leads, plan, stored, due.all() if due else [])
        except BaseException:
            self._conn.discard()
            raise

    def _store_in(self, conn: Connection,
                  leads: list[NewLead]) -> tuple[BatchPlan, dict[int, StoredLead], Rows | None]:
        """The batch's statements in ``conn``'s transaction: its plan, fresh leads' answers, due dispatches."""
        sql = self.sql
        # First round trip: what the database already has, and ids for the leads.
        by_key = {i: sql.send(conn, BY_IDEMPOTENCY_KEY, {"source_id": lead.source.id, "key": lead.idempotency_key})
                  for i, lead in enumerate(leads) if lead.idempotency_key}
        by_fingerprint = {i: sql.send(conn, EARLIER_DUPLICATE, {
            "source_id": lead.source.id, "dedupe_key": lead.dedupe_key,
            "since": sql.time(lead.received_at - timedelta(hours=lead.source.dedupe_window_hours))})
            for i, lead in enumerate(leads) if lead.dedupe_key}
        reserved = sql.reserve_ids(conn, "lead", len(leads))
        plan = plan_batch(
            leads,
            {i: next((StoredLead(*row, repeat=True) for row in rows.all()), None) for i, rows in by_key.items()},
            {i: next((row[0] for row in rows.all()), None) for i, rows in by_fingerprint.items()})
        stored = _fresh_answers(plan, {i: lead_id for i, (lead_id,) in zip(plan.fresh, sorted(reserved.all()))})
        if not plan.fresh:
            return plan, stored, None
        # Second round trip, with the COMMIT: the leads, their dispatches, and which of those are due.
        sql.execute_many(conn, INSERT_LEAD, [_lead_row(sql, leads[i], stored[i]) for i in plan.fresh])
        dispatches = [row for i in plan.fresh if stored[i].duplicate_of is None
                      for row in _dispatch_rows(sql, leads[i], stored[i].lead_id)]
        if not dispatches:
            return plan, stored, None
        sql.execute_many(conn, INSERT_DISPATCH, dispatches)
        in_ids, params = in_list("lead", [stored[i].lead_id for i in plan.fresh])
        return plan, stored, sql.send(conn, DUE_DISPATCHES.format(ids=in_ids), params)


def _fresh_answers(plan: BatchPlan, ids: dict[int, int]) -> dict[int, StoredLead]:
    """Each fresh lead's answer, by index: its new id, and the lead it duplicates, if any."""
    answers = {}
    for i in plan.fresh:
        duplicate_of = ids[plan.duplicate_of_index[i]] if i in plan.duplicate_of_index else plan.duplicate_of.get(i)
        answers[i] = StoredLead(ids[i], "accepted" if duplicate_of is None else "duplicate", duplicate_of)
    return answers


def _lead_row(sql: DriverSql, lead: NewLead, stored: StoredLead) -> dict[str, Any]:
    return {"id": stored.lead_id, "source_id": lead.source.id, "received_at": sql.time(lead.received_at),
            "status": stored.status, "duplicate_of": stored.duplicate_of, "dedupe_key": lead.dedupe_key,
            "idempotency_key": lead.idempotency_key, "fields": sql.json(lead.fields)}


def _dispatch_rows(sql: DriverSql, lead: NewLead, lead_id: int) -> list[dict[str, Any]]:
    """One row per enabled delivery of the lead's source; skipped where the delivery's filter says no."""
    now = sql.time(utcnow())
    rows = []
    for delivery_id, compiled, text in lead.source.deliveries:
        matches = compiled is None or compiled.matches(lead.fields)
        rows.append({"lead_id": lead_id, "delivery_id": delivery_id,
                     "status": DispatchStatus.PENDING.value if matches else DispatchStatus.SKIPPED.value,
                     "next_attempt_at": now if matches else None,
                     "last_error": "" if matches else f"filter did not match: {text}", "now": now})
    return rows


def _results(leads: list[NewLead], plan: BatchPlan, stored: dict[int, StoredLead],
             due: list[tuple[int, int]]) -> list[StoredLead]:
    """Each lead's answer, in the batch's order."""
    results: dict[int, StoredLead] = {**plan.answered, **stored}
    by_id = {answer.lead_id: answer for answer in stored.values()}
    for dispatch_id, lead_id in sorted(due):
        by_id[lead_id].due.append(dispatch_id)
    for i, first in plan.repeats.items():
        answer = results[first]
        results[i] = StoredLead(answer.lead_id, answer.status, answer.duplicate_of, repeat=True)
    return [results[i] for i in range(len(leads))]
