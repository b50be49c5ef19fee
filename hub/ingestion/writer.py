"""The lead writer: one thread stores the leads of many requests in one transaction (group commit).

Each request validates its lead on its own, then waits here until the lead and
its dispatches are committed: a 202 still means "on disk". Committing the
leads that arrived together in one transaction makes the lock, the BEGIN and
the COMMIT cost per batch instead of per lead, which is what bounded intake.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from hub.batching import GroupCommit
from hub.faults import fault_point
from hub.ingestion.sources import SourceRules
from hub.models import Dispatch, DispatchStatus, Lead, utcnow

LEADS = Lead.__table__
DISPATCHES = Dispatch.__table__


@dataclass
class NewLead:
    """A valid lead waiting to be stored."""

    source: SourceRules
    fields: dict[str, Any]
    dedupe_key: str | None
    idempotency_key: str | None
    received_at: datetime
    # Worked out while storing:
    duplicate_of: int | None = None  # an earlier accepted lead with the same dedupe key
    duplicate_of_index: int | None = None  # ... when that lead is in the same batch


@dataclass
class StoredLead:
    lead_id: int
    status: str
    duplicate_of: int | None
    due: list[int] = field(default_factory=list)  # dispatches to send now
    repeat: bool = False  # the idempotency key was seen before: this is the first answer again


class LeadWriter:
    """Commits submitted leads in batches; ``after_commit`` gets each batch's newly stored leads."""

    def __init__(self, engine: Engine, after_commit: Callable[[list[tuple[NewLead, StoredLead]]], None]) -> None:
        self.engine = engine
        self.after_commit = after_commit
        self._batches: GroupCommit[NewLead, StoredLead] = GroupCommit(
            "leadhub-lead-writer", self._write_batch, after=self._after)

    def submit(self, lead: NewLead) -> Future[StoredLead]:
        return self._batches.submit(lead)

    def write(self, lead: NewLead) -> StoredLead:
        """Store one lead and wait for the commit (from a thread; the web handler awaits :meth:`submit`)."""
        return self._batches.run(lead)

    def close(self) -> None:
        self._batches.close()

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
        with self.engine.begin() as conn:
            results: list[StoredLead | None] = [None] * len(leads)
            first_by_key: dict[tuple[int, str], int] = {}  # idempotency key -> index of its first lead here
            first_by_fingerprint: dict[tuple[int, str], int] = {}  # dedupe key -> index of the first lead here
            fresh: list[int] = []  # indexes of leads to insert, in order
            in_batch_repeats: dict[int, int] = {}  # index -> index of the lead it repeats
            for i, lead in enumerate(leads):
                lead.duplicate_of = lead.duplicate_of_index = None  # from a batch that was rolled back
                key = (lead.source.id, lead.idempotency_key) if lead.idempotency_key else None
                if key and key in first_by_key:
                    in_batch_repeats[i] = first_by_key[key]
                    continue
                if key and (earlier := _by_idempotency_key(conn, *key)) is not None:
                    results[i] = earlier
                    continue
                if key:
                    first_by_key[key] = i
                fingerprint = (lead.source.id, lead.dedupe_key) if lead.dedupe_key else None
                if fingerprint and fingerprint in first_by_fingerprint:
                    lead.duplicate_of_index = first_by_fingerprint[fingerprint]
                elif fingerprint:
                    lead.duplicate_of = _duplicate_of(conn, lead)
                    if lead.duplicate_of is None:
                        first_by_fingerprint[fingerprint] = i
                fresh.append(i)
            _insert_leads(conn, leads, fresh, results)
            _insert_dispatches(conn, [(leads[i], results[i]) for i in fresh])  # type: ignore[misc]
        for i, first in in_batch_repeats.items():
            stored = results[first]
            assert stored is not None
            results[i] = StoredLead(stored.lead_id, stored.status, stored.duplicate_of, repeat=True)
        return results  # type: ignore[return-value]  # every slot is filled by now


def _by_idempotency_key(conn: Connection, source_id: int, key: str) -> StoredLead | None:
    row = conn.execute(select(LEADS.c.id, LEADS.c.status, LEADS.c.duplicate_of)
                       .where(LEADS.c.source_id == source_id, LEADS.c.idempotency_key == key)).first()
    return None if row is None else StoredLead(row.id, row.status, row.duplicate_of, repeat=True)


def _duplicate_of(conn: Connection, lead: NewLead) -> int | None:
    if lead.dedupe_key is None:
        return None
    since = lead.received_at - timedelta(hours=lead.source.dedupe_window_hours)
    return conn.execute(
        select(LEADS.c.id)
        .where(LEADS.c.source_id == lead.source.id, LEADS.c.dedupe_key == lead.dedupe_key,
               LEADS.c.received_at >= since, LEADS.c.status == "accepted")
        .order_by(LEADS.c.id)
        .limit(1)
    ).scalar_one_or_none()


def _insert_leads(conn: Connection, leads: list[NewLead], order: list[int], results: list[StoredLead | None]) -> None:
    """Insert the leads at ``order`` in one statement; duplicates of a lead in the same batch go second."""
    firsts = [i for i in order if leads[i].duplicate_of_index is None]
    seconds = [i for i in order if leads[i].duplicate_of_index is not None]
    for group in (firsts, seconds):
        if not group:
            continue
        rows = []
        for i in group:
            lead = leads[i]
            if lead.duplicate_of_index is not None:
                lead.duplicate_of = results[lead.duplicate_of_index].lead_id  # type: ignore[union-attr]
            rows.append(dict(source_id=lead.source.id, received_at=lead.received_at,
                             status="accepted" if lead.duplicate_of is None else "duplicate",
                             duplicate_of=lead.duplicate_of, dedupe_key=lead.dedupe_key,
                             idempotency_key=lead.idempotency_key, fields=lead.fields))
        ids = conn.execute(insert(LEADS).returning(LEADS.c.id, sort_by_parameter_order=True), rows).scalars().all()
        for i, lead_id, row in zip(group, ids, rows):
            results[i] = StoredLead(lead_id, row["status"], row["duplicate_of"])


def _insert_dispatches(conn: Connection, stored: list[tuple[NewLead, StoredLead]]) -> None:
    """One row per enabled delivery of each accepted lead (skipped where its filter says no); fills ``due``."""
    now = utcnow()
    rows = []
    for lead, result in stored:
        if result.duplicate_of is not None:
            continue
        for delivery_id, compiled, text in lead.source.deliveries:
            matches = compiled is None or compiled.matches(lead.fields)
            rows.append(dict(
                lead_id=result.lead_id, delivery_id=delivery_id,
                status=DispatchStatus.PENDING.value if matches else DispatchStatus.SKIPPED.value,
                attempts=0, round_attempts=0, next_attempt_at=now if matches else None,
                last_error="" if matches else f"filter did not match: {text}",
                created_at=now, updated_at=now,
            ))
    if not rows:
        return
    by_lead = {result.lead_id: result for _, result in stored}
    returned = conn.execute(insert(DISPATCHES).returning(DISPATCHES.c.id, DISPATCHES.c.lead_id, DISPATCHES.c.status,
                                                         sort_by_parameter_order=True), rows)
    for row in returned:
        if row.status == DispatchStatus.PENDING.value:
            by_lead[row.lead_id].due.append(row.id)
