"""Read models: a lead with its dispatches and attempts, and dispatch lists, as plain dicts."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from hub.models import Attempt, Delivery, Dispatch, Lead, Source


def iso(moment: datetime | None) -> str | None:
    """A timestamp as ISO 8601 UTC with a Z."""
    if moment is None:
        return None
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def attempt_record(attempt: Attempt) -> dict[str, Any]:
    return {
        "number": attempt.number,
        "started_at": iso(attempt.started_at),
        "duration_ms": attempt.duration_ms,
        "outcome": attempt.outcome,
        "message": attempt.message,
        "remote_id": attempt.remote_id,
        "request": attempt.request,
        "response": attempt.response,
        "details": attempt.details,
    }


def dispatch_record(dispatch: Dispatch, delivery: Delivery, attempts: list[Attempt] | None = None) -> dict[str, Any]:
    record = {
        "id": dispatch.id,
        "lead_id": dispatch.lead_id,
        "delivery": delivery.slug,
        "channel": delivery.channel,
        "status": dispatch.status,
        "remote_id": dispatch.remote_id,
        "attempt_count": dispatch.attempts,
        "next_attempt_at": iso(dispatch.next_attempt_at),
        "last_error": dispatch.last_error,
        "updated_at": iso(dispatch.updated_at),
    }
    if attempts is not None:
        record["attempts"] = [attempt_record(a) for a in attempts]
    return record


def lead_record(session: Session, lead_id: int) -> dict[str, Any] | None:
    """The lead with every dispatch and, per dispatch, every attempt in order."""
    lead = session.get(Lead, lead_id)
    if lead is None:
        return None
    source = session.get(Source, lead.source_id)
    rows = session.execute(
        select(Dispatch, Delivery).join(Delivery, Delivery.id == Dispatch.delivery_id)
        .where(Dispatch.lead_id == lead_id).order_by(Dispatch.id)
    ).all()
    attempts: dict[int, list[Attempt]] = {}
    if rows:
        for attempt in session.execute(
            select(Attempt).where(Attempt.dispatch_id.in_([d.id for d, _ in rows])).order_by(Attempt.id)
        ).scalars():
            attempts.setdefault(attempt.dispatch_id, []).append(attempt)
    return {
        "id": lead.id,
        "source": source.slug,
        "received_at": iso(lead.received_at),
        "status": lead.status,
        "duplicate_of": lead.duplicate_of,
        "fields": lead.fields,
        "dispatches": [dispatch_record(d, delivery, attempts.get(d.id, [])) for d, delivery in rows],
    }


def dispatch_list(session: Session, *, status: str | None = None, delivery: str | None = None,
                  after_id: int = 0, limit: int = 100) -> list[dict[str, Any]]:
    """Dispatches in id order (keyset paging with ``after_id``), filtered by status and delivery slug."""
    query = (
        select(Dispatch, Delivery).join(Delivery, Delivery.id == Dispatch.delivery_id)
        .where(Dispatch.id > after_id).order_by(Dispatch.id).limit(limit)
    )
    if status:
        query = query.where(Dispatch.status == status)
    if delivery:
        query = query.where(Delivery.slug == delivery)
    return [dispatch_record(d, dl) for d, dl in session.execute(query).all()]
