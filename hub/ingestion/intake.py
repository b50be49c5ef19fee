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
from sqlalchemy import select
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


def _accepted(lead: Lead) -> Answer:
    body: dict[str, Any] = {"lead_id": lead.id, "status": lead.status}
    if lead.duplicate_of is not None:
        body["duplicate_of"] = lead.duplicate_of
    return Answer(202, body)


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
                    return _accepted(earlier)
            clean, errors = validate_lead(_specs(msgspec.json.encode(source.fields)), data)
            if errors:
                return Answer(422, {"error": "invalid lead", "fields": errors})
            lead = Lead(source_id=source.id, fields=clean, idempotency_key=idempotency_key,
                        dedupe_key=dedupe_key(clean, source.dedupe_on))
            lead.duplicate_of = self._duplicate_of(session, source, lead)
            if lead.duplicate_of is not None:
                lead.status = "duplicate"
            session.add(lead)
            try:
                session.flush()
                dispatches = [] if lead.duplicate_of is not None else self._dispatches(session, source.id, lead)
                session.commit()
            except IntegrityError:
                # Two retries of one lead raced; the other one won and its answer is ours.
                session.rollback()
                earlier = self._by_idempotency_key(session, source.id, idempotency_key) if idempotency_key else None
                if earlier is None:
                    raise
                return _accepted(earlier)
        due = [d.id for d in dispatches if d.status == DispatchStatus.PENDING.value]
        _fault_point("after-commit")
        if due:
            self.enqueue(due, None)
        self.hub.registry.notify("leadhub_lead_received",
                                 lead={"id": lead.id, "source": slug, "status": lead.status, "fields": clean})
        answer = _accepted(lead)
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
    def _duplicate_of(session: Session, source: Source, lead: Lead) -> int | None:
        if lead.dedupe_key is None:
            return None
        since = utcnow() - timedelta(hours=source.dedupe_window_hours)
        return session.execute(
            select(Lead.id)
            .where(Lead.source_id == source.id, Lead.dedupe_key == lead.dedupe_key,
                   Lead.received_at >= since, Lead.status == "accepted")
            .order_by(Lead.id)
            .limit(1)
        ).scalar_one_or_none()

    @staticmethod
    def _dispatches(session: Session, source_id: int, lead: Lead) -> list[Dispatch]:
        deliveries = session.execute(
            select(Delivery.id, Delivery.filter)
            .join(DeliverySource, DeliverySource.delivery_id == Delivery.id)
            .where(DeliverySource.source_id == source_id, Delivery.enabled.is_(True))
            .order_by(Delivery.id)
        ).all()
        now = utcnow()
        dispatches = []
        for delivery_id, filter_text in deliveries:
            matches = _filter(filter_text or "").matches(lead.fields)
            dispatches.append(Dispatch(
                lead_id=lead.id, delivery_id=delivery_id,
                status=DispatchStatus.PENDING.value if matches else DispatchStatus.SKIPPED.value,
                next_attempt_at=now if matches else None,
                last_error="" if matches else f"filter did not match: {filter_text}",
            ))
        session.add_all(dispatches)
        session.flush()
        return dispatches


def _fault_point(name: str) -> None:
    """Die here if HUB_FAULT names this point: the crash tests prove nothing is lost."""
    if os.environ.get("HUB_FAULT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
