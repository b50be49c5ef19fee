"""The dispatch ledger: the statements that claim dispatches and record their tries.

Every worker thread's claims and records go through one group-commit thread
(see hub.batching), so a busy worker pays for one transaction per batch, not
per try. The statements run on the driver's cursor (hub.driver_sql): with
SQLAlchemy's per-call work, the ledger cost the worker nearly as much CPU as
the buyers' HTTP calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy.engine import Connection

from hub.driver_sql import DriverSql, Rows, in_list
from hub.models import RETRYABLE, utcnow

_RETRYABLE = ", ".join(f"'{status}'" for status in RETRYABLE)

# Take the lease on those of the ids that are due: not final, not leased by a live worker.
CLAIM = f"""
UPDATE dispatch SET leased_until = :lease, attempts = attempts + 1, round_attempts = round_attempts + 1,
                    updated_at = :now
WHERE id IN {{ids}} AND status IN ({_RETRYABLE})
  AND (leased_until IS NULL OR leased_until < :now)
  AND (next_attempt_at IS NULL OR next_attempt_at <= :due_by)
RETURNING id, attempts, round_attempts"""

# What a try needs of each dispatch just claimed: the lead, the delivery and the source's slug.
LOAD = """
SELECT dispatch.id, lead.id, lead.fields, delivery.slug, delivery.channel, delivery.config, delivery.mapping,
       delivery.enabled, delivery.max_attempts, source.slug
FROM dispatch JOIN lead ON lead.id = dispatch.lead_id
              JOIN delivery ON delivery.id = dispatch.delivery_id
              JOIN source ON source.id = lead.source_id
WHERE dispatch.id IN {ids} AND dispatch.leased_until = :lease"""

INSERT_ATTEMPT = """
INSERT INTO attempt (dispatch_id, number, started_at, duration_ms, outcome, message, remote_id, request, response,
                     details)
VALUES (:dispatch_id, :number, :started_at, :duration_ms, :outcome, :message, :remote_id, :request, :response,
        :details)"""

# Only the holder of the lease moves the dispatch on; a try that outlived
# its lease is still logged, but the newer holder decides the status.
RECORD = """
UPDATE dispatch SET status = :status, leased_until = NULL, updated_at = :updated_at, last_error = :last_error,
                    next_attempt_at = :next_attempt_at, remote_id = COALESCE(:remote_id, remote_id)
WHERE id = :id AND leased_until = :lease"""

# PostgreSQL: both in one statement (a data-modifying WITH), so a record is one statement in the
# pipeline, not two. psycopg handles each statement's result in Python: the ledger thread's CPU fell
# from 63-72 to 51-56 us a try (six drains of 10 000 leads, in turn with the two statements).
RECORD_WITH_ATTEMPT = f"""
WITH moved AS ({RECORD.strip()})
{INSERT_ATTEMPT.strip()}"""

# A claim undone: the dispatch was not tried (its worker was stopping), so the try is not counted.
HAND_BACK = """
UPDATE dispatch SET leased_until = NULL, attempts = attempts - 1, round_attempts = round_attempts - 1,
                    updated_at = :now
WHERE id = :id AND leased_until = :lease"""


@dataclass(frozen=True)
class Claim:
    dispatch_id: int
    attempt: int  # the number of this try (all tries ever)
    round_attempt: int  # the number of this try since the last replay
    leased_until: Any  # as bound to the driver: the record's statement matches it exactly


class LeadRow(NamedTuple):
    id: int
    fields: dict[str, Any]


class DeliveryRow(NamedTuple):
    """The settings of a delivery a try needs (the same attribute names as the ``Delivery`` model)."""

    slug: str
    channel: str
    config: dict[str, Any]
    mapping: list[dict[str, Any]]
    enabled: bool
    max_attempts: int


class Claimed(NamedTuple):
    """A dispatch this worker now holds the lease on, with what its try needs."""

    taken: Claim
    lead: LeadRow
    delivery: DeliveryRow
    source_slug: str


class Claiming(NamedTuple):
    """The two statements of a claim, sent together; :meth:`read` them once the transaction is over."""

    lease: Any
    leased: Rows
    loaded: Rows

    def read(self, sql: DriverSql) -> dict[int, Claimed]:
        """Each dispatch this claim leased, with what its try needs."""
        taken = {dispatch_id: Claim(dispatch_id, attempts, round_attempts, self.lease)
                 for dispatch_id, attempts, round_attempts in self.leased.all()}
        return {
            dispatch_id: Claimed(
                taken[dispatch_id],
                LeadRow(lead_id, sql.from_json(fields)),
                DeliveryRow(slug, channel, sql.from_json(config), sql.from_json(mapping), bool(enabled), max_attempts),
                source_slug,
            )
            for dispatch_id, lead_id, fields, slug, channel, config, mapping, enabled, max_attempts, source_slug
            in self.loaded.all()
            if dispatch_id in taken  # another worker's lease of the very same microsecond is not ours
        }


def claim(sql: DriverSql, conn: Connection, dispatch_ids: list[int], lease_seconds: float,
          now: datetime | None = None) -> Claiming:
    """Lease those of ``dispatch_ids`` that are due, and load what their tries need.

    The load finds the claimed rows by their new lease rather than by the claim's
    answer, so the two statements need not wait for each other (one round trip).
    """
    now = now or utcnow()
    lease = sql.time(now + timedelta(seconds=lease_seconds))
    ids, params = in_list("id", dispatch_ids)
    # A delayed broker message may arrive a hair early.
    leased = sql.send(conn, CLAIM.format(ids=ids), {
        **params, "now": sql.time(now), "lease": lease, "due_by": sql.time(now + timedelta(seconds=1))})
    return Claiming(lease, leased, sql.send(conn, LOAD.format(ids=ids), {**params, "lease": lease}))


def store(sql: DriverSql, conn: Connection, records: list[dict[str, Any]]) -> None:
    """Insert each record's attempt and move its dispatch on (``records`` as built by the runner)."""
    attempts = [{**a, "started_at": sql.time(a["started_at"]), "request": sql.json(a["request"]),
                 "response": sql.json(a["response"]), "details": sql.json(a["details"])}
                for a in (r["attempt"] for r in records)]
    moves = [{"remote_id": None, **r["dispatch"], "updated_at": sql.time(r["dispatch"]["updated_at"]),
              "next_attempt_at": sql.time(r["dispatch"]["next_attempt_at"]), "id": r["claim"].dispatch_id,
              "lease": r["claim"].leased_until}
             for r in records]
    if sql.sqlite:  # SQLite has no data-modifying WITH
        sql.execute_many(conn, INSERT_ATTEMPT, attempts)
        sql.execute_many(conn, RECORD, moves)
        return
    # The attempt's remote_id and the dispatch's are the same answer's (None leaves the dispatch's as it was).
    sql.execute_many(conn, RECORD_WITH_ATTEMPT, [{**move, **attempt} for move, attempt in zip(moves, attempts)])


def hand_back(sql: DriverSql, conn: Connection, claims: list[Claim]) -> None:
    """Give up the leases of claimed dispatches that were not tried; they are due again at once."""
    now = sql.time(utcnow())
    sql.execute_many(conn, HAND_BACK, [{"id": c.dispatch_id, "lease": c.leased_until, "now": now} for c in claims])
