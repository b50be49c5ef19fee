"""Replay dead and rejected dispatches: give them a fresh round of tries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from hub.models import Delivery, Dispatch, DispatchStatus, utcnow

REPLAYABLE = (DispatchStatus.DEAD.value, DispatchStatus.REJECTED.value)


def replay(engine: Engine, dispatch_ids: Sequence[int] | None = None, *, status: str | None = None,
           delivery: str | None = None, limit: int = 10_000, due_at: datetime | None = None) -> list[int]:
    """Reset matching dead/rejected dispatches to pending; returns the ids to enqueue.

    Select by ids, or by ``status`` (dead or rejected) and/or ``delivery`` slug.
    ``due_at`` backdates them so a sweeper in another process picks them up at once.
    """
    table = Dispatch.__table__
    query = select(table.c.id).where(table.c.status.in_(REPLAYABLE)).order_by(table.c.id).limit(limit)
    if dispatch_ids is not None:
        query = query.where(table.c.id.in_(list(dispatch_ids)))
    if status is not None:
        query = query.where(table.c.status == status)
    if delivery is not None:
        query = query.join(Delivery.__table__, Delivery.__table__.c.id == table.c.delivery_id).where(
            Delivery.__table__.c.slug == delivery
        )
    now = utcnow()
    due_at = due_at or now
    with Session(engine) as session:
        ids = list(session.execute(query).scalars())
        if ids:
            session.execute(
                update(table)
                .where(table.c.id.in_(ids), table.c.status.in_(REPLAYABLE))
                .values(status=DispatchStatus.PENDING.value, round_attempts=0, next_attempt_at=due_at,
                        leased_until=None, updated_at=now)
            )
            session.commit()
    return ids
