"""The dispatch ledger: the statements that claim dispatches and record their tries.

Every worker thread's claims and records go through one group-commit thread
(see hub.batching), so a busy worker pays for one transaction per batch, not
per try. The statements are built once here: building SQLAlchemy expressions
on each call cost more than running them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.engine import Connection

from hub.models import RETRYABLE, Attempt, Delivery, Dispatch, Lead, Source, utcnow

DISPATCHES = Dispatch.__table__
LEADS = Lead.__table__
DELIVERIES = Delivery.__table__
SOURCES = Source.__table__

# Take the lease on those of :ids that are due: not final, not leased by a live worker.
CLAIM = (
    update(DISPATCHES)
    .where(
        DISPATCHES.c.id.in_(bindparam("ids", expanding=True)),
        DISPATCHES.c.status.in_(RETRYABLE),
        DISPATCHES.c.leased_until.is_(None) | (DISPATCHES.c.leased_until < bindparam("b_now")),
        DISPATCHES.c.next_attempt_at.is_(None) | (DISPATCHES.c.next_attempt_at <= bindparam("b_due_by")),
    )
    .values(
        leased_until=bindparam("b_lease"),
        attempts=DISPATCHES.c.attempts + 1,
        round_attempts=DISPATCHES.c.round_attempts + 1,
        updated_at=bindparam("b_now"),
    )
    .returning(DISPATCHES.c.id, DISPATCHES.c.attempts, DISPATCHES.c.round_attempts)
)

# What a try needs of each claimed dispatch: the lead, the delivery and the source's slug.
LOAD = (
    select(
        DISPATCHES.c.id.label("dispatch_id"), LEADS.c.id.label("lead_id"), LEADS.c.fields,
        DELIVERIES.c.slug, DELIVERIES.c.channel, DELIVERIES.c.config, DELIVERIES.c.mapping,
        DELIVERIES.c.enabled, DELIVERIES.c.max_attempts, SOURCES.c.slug.label("source_slug"),
    )
    .join(LEADS, LEADS.c.id == DISPATCHES.c.lead_id)
    .join(DELIVERIES, DELIVERIES.c.id == DISPATCHES.c.delivery_id)
    .join(SOURCES, SOURCES.c.id == LEADS.c.source_id)
    .where(DISPATCHES.c.id.in_(bindparam("ids", expanding=True)))
)

INSERT_ATTEMPT = insert(Attempt.__table__)

# Only the holder of the lease moves the dispatch on; a try that outlived
# its lease is still logged, but the newer holder decides the status.
RECORD = (
    update(DISPATCHES)
    .where(DISPATCHES.c.id == bindparam("b_id"), DISPATCHES.c.leased_until == bindparam("b_lease"))
    .values(status=bindparam("status"), leased_until=None, updated_at=bindparam("updated_at"),
            last_error=bindparam("last_error"), next_attempt_at=bindparam("next_attempt_at"),
            remote_id=func.coalesce(bindparam("remote_id"), DISPATCHES.c.remote_id))
)


@dataclass(frozen=True)
class Claim:
    dispatch_id: int
    attempt: int  # the number of this try (all tries ever)
    round_attempt: int  # the number of this try since the last replay
    leased_until: Any


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


def claim(conn: Connection, dispatch_ids: list[int], lease_seconds: float, now: datetime | None = None) -> dict[int, Claim]:
    """Lease those of ``dispatch_ids`` that are due; one statement."""
    now = now or utcnow()
    lease = now + timedelta(seconds=lease_seconds)
    # A delayed broker message may arrive a hair early.
    rows = conn.execute(CLAIM, {"ids": dispatch_ids, "b_now": now, "b_lease": lease,
                                "b_due_by": now + timedelta(seconds=1)})
    return {row.id: Claim(row.id, row.attempts, row.round_attempts, lease) for row in rows}


def load(conn: Connection, claims: dict[int, Claim]) -> dict[int, Claimed]:
    """Each claimed dispatch's lead, delivery and source slug, in one query."""
    rows = conn.execute(LOAD, {"ids": list(claims)})
    return {
        row.dispatch_id: Claimed(
            claims[row.dispatch_id],
            LeadRow(row.lead_id, row.fields),
            DeliveryRow(row.slug, row.channel, row.config, row.mapping, row.enabled, row.max_attempts),
            row.source_slug,
        )
        for row in rows
    }


def store(conn: Connection, records: list[dict[str, Any]]) -> None:
    """Insert each record's attempt and move its dispatch on (``records`` as built by the runner)."""
    conn.execute(INSERT_ATTEMPT, [r["attempt"] for r in records])
    conn.execute(RECORD, [{"remote_id": None, **r["dispatch"], "b_id": r["claim"].dispatch_id,
                           "b_lease": r["claim"].leased_until} for r in records])
