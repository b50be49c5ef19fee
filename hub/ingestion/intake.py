"""Intake: validate a posted lead and store it with its dispatches in one transaction (the outbox).

Pure HTTP concerns (body size, content types) live in the web layer; this
module takes decoded fields and answers with a status code and a JSON body.
"""

from __future__ import annotations

import hmac
import logging
import os
import signal
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache
from typing import Any

import msgspec
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from hub.ingestion.fields import FieldSpec, dedupe_key, validate_lead
from hub.mapping.filters import Filter, compile_filter
from hub.models import Delivery, DeliverySource, Dispatch, DispatchStatus, Lead, Source, utcnow
from hub.runtime import Hub
from hub.secrets import SecretError

log = logging.getLogger("leadhub.intake")

MAX_IDEMPOTENCY_KEY = 255


@dataclass
class Answer:
    status_code: int
    body: dict[str, Any]
    dispatch_ids: list[int] = field(default_factory=list)


@lru_cache(maxsize=1024)
def _filter(text: str) -> Filter:
    return compile_filter(text)


@lru_cache(maxsize=1024)
def _specs(raw: bytes) -> list[FieldSpec]:
    return msgspec.json.decode(raw, type=list[FieldSpec])


def _accepted(lead_id: int, status: str, duplicate_of: int | None) -> Answer:
    body: dict[str, Any] = {"lead_id": lead_id, "status": status}
    if duplicate_of is not None:
        body["duplicate_of"] = duplicate_of
    return Answer(202, body)


def _earlier(lead: Lead) -> Answer:
    return _accepted(lead.id, lead.status, lead.duplicate_of)


class Intake:
    """Receives leads for every source; ``enqueue`` sends dispatch ids after commit."""

    def __init__(self, hub: Hub, enqueue: Callable[[list[int], float | None], None]) -> None:
        self.hub = hub
        self.enqueue = enqueue

    def receive(self, slug: str, data: Mapping[str, Any], api_key: str | None,
                idempotency_key: str | None = None) -> Answer:
        with Session(self.hub.engine, expire_on_commit=False) as session:
            source = session.execute(select(Source).where(Source.slug == slug)).scalar_one_or_none()
            if source is None:
                return Answer(404, {"error": f"no source '{slug}'"})
            refusal = self._check_key(source, api_key)
            if refusal is not None:
                return refusal
            if idempotency_key is None and source.idempotency_field:
                value = data.get(source.idempotency_field)
                idempotency_key = None if value in (None, "") else str(value)
            if idempotency_key is not None:
                if len(idempotency_key) > MAX_IDEMPOTENCY_KEY:
                    return Answer(422, {"error": "invalid lead",
                                        "fields": {"Idempotency-Key": f"must be at most {MAX_IDEMPOTENCY_KEY} characters"}})
                earlier = self._by_idempotency_key(session, source.id, idempotency_key)
                if earlier is not None:
                    return _earlier(earlier)
            clean, errors = validate_lead(_specs(msgspec.json.encode(source.fields)), data)
            if errors:
                return Answer(422, {"error": "invalid lead", "fields": errors})
            key = dedupe_key(clean, source.dedupe_on)
            duplicate_of = self._duplicate_of(session, source, key)
            status = "accepted" if duplicate_of is None else "duplicate"
            try:
                # Core inserts: the ORM's unit of work cost more than the rest of intake together.
                lead_id = session.execute(insert(Lead.__table__).values(
                    source_id=source.id, received_at=utcnow(), status=status, duplicate_of=duplicate_of,
                    dedupe_key=key, idempotency_key=idempotency_key, fields=clean,
                ).returning(Lead.__table__.c.id)).scalar_one()
                due = [] if duplicate_of is not None else self._dispatches(session, source.id, lead_id, clean)
                session.commit()
            except IntegrityError:
                # Two retries of one lead raced; the other one won and its answer is ours.
                session.rollback()
                earlier = self._by_idempotency_key(session, source.id, idempotency_key) if idempotency_key else None
                if earlier is None:
                    raise
                return _earlier(earlier)
        _fault_point("after-commit")
        if due:
            self.enqueue(due, None)
        self.hub.registry.notify("leadhub_lead_received",
                                 lead={"id": lead_id, "source": slug, "status": status, "fields": clean})
        answer = _accepted(lead_id, status, duplicate_of)
        answer.dispatch_ids = due
        return answer

    def _check_key(self, source: Source, given: str | None) -> Answer | None:
        try:
            expected = self.hub.open_secret(source.api_key)
        except SecretError as exc:
            log.error("source %s has an unusable key: %s", source.slug, exc)
            return Answer(503, {"error": f"source '{source.slug}' is not configured correctly; try again later"})
        if not expected:
            return None  # an open source, by the admin's choice
        if given is None or not hmac.compare_digest(given.encode(), expected.encode()):
            return Answer(401, {"error": "missing or wrong API key: send it as the X-API-Key header or the key "
                                         "query parameter"})
        return None

    @staticmethod
    def _by_idempotency_key(session: Session, source_id: int, key: str) -> Lead | None:
        return session.execute(
            select(Lead).where(Lead.source_id == source_id, Lead.idempotency_key == key)
        ).scalar_one_or_none()

    @staticmethod
    def _duplicate_of(session: Session, source: Source, key: str | None) -> int | None:
        if key is None:
            return None
        since = utcnow() - timedelta(hours=source.dedupe_window_hours)
        return session.execute(
            select(Lead.id)
            .where(Lead.source_id == source.id, Lead.dedupe_key == key,
                   Lead.received_at >= since, Lead.status == "accepted")
            .order_by(Lead.id)
            .limit(1)
        ).scalar_one_or_none()

    @staticmethod
    def _dispatches(session: Session, source_id: int, lead_id: int, fields: dict[str, Any]) -> list[int]:
        """One row per enabled delivery of the source (skipped where its filter says no); the due ids."""
        deliveries = session.execute(
            select(Delivery.id, Delivery.filter)
            .join(DeliverySource, DeliverySource.delivery_id == Delivery.id)
            .where(DeliverySource.source_id == source_id, Delivery.enabled.is_(True))
            .order_by(Delivery.id)
        ).all()
        now = utcnow()
        due = []
        table = Dispatch.__table__
        for delivery_id, filter_text in deliveries:
            matches = _filter(filter_text or "").matches(fields)
            dispatch_id = session.execute(insert(table).values(
                lead_id=lead_id, delivery_id=delivery_id,
                status=DispatchStatus.PENDING.value if matches else DispatchStatus.SKIPPED.value,
                attempts=0, round_attempts=0, next_attempt_at=now if matches else None,
                last_error="" if matches else f"filter did not match: {filter_text}",
                created_at=now, updated_at=now,
            ).returning(table.c.id)).scalar_one()
            if matches:
                due.append(dispatch_id)
        return due


def _fault_point(name: str) -> None:
    """Die here if HUB_FAULT names this point: the crash tests prove nothing is lost."""
    if os.environ.get("HUB_FAULT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
