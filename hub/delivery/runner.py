"""Run one dispatch: claim it, map the lead, call the channel, record the attempt.

This is the body of the one generic worker actor. It never raises for a buyer's
or a plugin's failure: every try ends as an ``Attempt`` row and a new dispatch
status, and a failed try is scheduled again in the row itself.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import msgspec
from sqlalchemy import bindparam, func, insert, select, update
from sqlmodel import Session

from hub import metrics
from hub.batching import GroupCommit
from hub.delivery.context import build_delivery_context
from hub.delivery.retry import backoff_seconds
from hub.mapping.engine import MappingError, apply_mapping, parse_rules
from hub.models import RETRYABLE, Attempt, Delivery, Dispatch, DispatchStatus, Lead, Source, utcnow
from hub.plugins.configs import ConfigErrors
from hub.plugins.contract import DeliveryResult, Outcome
from hub.runtime import Hub
from hub.secrets import Masker, SecretError

log = logging.getLogger("leadhub.delivery")

Enqueue = Callable[[list[int], float | None], None]


@dataclass(frozen=True)
class Claim:
    dispatch_id: int
    attempt: int  # the number of this try (all tries ever)
    round_attempt: int  # the number of this try since the last replay
    leased_until: Any


def claim(session: Session, dispatch_ids: list[int], lease_seconds: float) -> dict[int, Claim]:
    """Take the lease on those of ``dispatch_ids`` that are due (not final, not leased); one statement."""
    now = utcnow()
    lease = now + timedelta(seconds=lease_seconds)
    table = Dispatch.__table__
    stmt = (
        update(table)
        .where(
            table.c.id.in_(dispatch_ids),
            table.c.status.in_(RETRYABLE),
            (table.c.leased_until.is_(None)) | (table.c.leased_until < now),
            # A delayed broker message may arrive a hair early.
            (table.c.next_attempt_at.is_(None)) | (table.c.next_attempt_at <= now + timedelta(seconds=1)),
        )
        .values(
            leased_until=lease,
            attempts=table.c.attempts + 1,
            round_attempts=table.c.round_attempts + 1,
            updated_at=now,
        )
        .returning(table.c.id, table.c.attempts, table.c.round_attempts)
    )
    return {row.id: Claim(row.id, row.attempts, row.round_attempts, lease) for row in session.execute(stmt)}


class DeliveryRunner:
    """Runs dispatches for one worker process; ``http`` is its shared, pooled client."""

    def __init__(self, hub: Hub, http: httpx.Client, enqueue: Enqueue) -> None:
        self.hub = hub
        self.http = http
        self.enqueue = enqueue
        # Claims and records of every worker thread, committed together (see hub.batching).
        self.ledger: GroupCommit[Claim | dict[str, Any] | int, Any] = GroupCommit(
            "leadhub-dispatch-ledger", self._ledger_batch)

    def close(self) -> None:
        self.ledger.close()

    def run(self, dispatch_id: int) -> DispatchStatus | None:
        """Try a dispatch once if it is due; returns its new status, or None if not ours to run."""
        claimed = self.ledger.run(dispatch_id)
        if claimed is None:
            return None
        taken, lead, delivery, source_slug = claimed
        started = utcnow()
        clock = time.perf_counter()
        result, masker = self._attempt(taken, lead, delivery, source_slug)
        duration_ms = (time.perf_counter() - clock) * 1000
        status, delay = self._record(taken, delivery, result, masker, started, duration_ms)
        if delay is not None:
            self.enqueue([dispatch_id], delay)
        metrics.ATTEMPTS.labels(delivery.slug, delivery.channel, result.outcome.value).inc()
        if status != DispatchStatus.ACCEPTED:  # what an operator looks for; successes are in the metrics
            log.log(logging.INFO if status == DispatchStatus.FAILED else logging.WARNING,
                    "dispatch %s of lead %s to %s: %s after try %s: %s", dispatch_id, lead.id, delivery.slug,
                    status.value, taken.attempt, masker.text(result.message)[:300],
                    extra={"dispatch_id": dispatch_id, "lead_id": lead.id, "delivery": delivery.slug})
        self.hub.registry.notify(
            "leadhub_dispatch_finished",
            dispatch={"id": dispatch_id, "lead_id": lead.id, "delivery": delivery.slug, "status": status.value},
            attempt={"number": taken.attempt, "outcome": result.outcome.value, "message": masker.text(result.message),
                     "duration_ms": duration_ms},
        )
        return status

    def try_once(self, delivery: Delivery, lead: Lead, source_slug: str) -> tuple[DeliveryResult, Masker]:
        """Run a delivery for a lead without a dispatch (the admin's "send test"); nothing is recorded."""
        return self._attempt(Claim(0, 1, 1, None), lead, delivery, source_slug)

    def _attempt(self, taken: Claim, lead: Lead, delivery: Delivery, source: str) -> tuple[DeliveryResult, Masker]:
        """Everything that can go wrong here becomes a result, never an exception."""
        masker = Masker([])
        if not delivery.enabled:
            return DeliveryResult.rejected(f"delivery '{delivery.slug}' is disabled; replay after enabling it"), masker
        try:
            channel = self.hub.registry.channel(delivery.channel)
            config, masker = self.hub.runtime_config(channel.Config, delivery.config)
        except LookupError as exc:
            return DeliveryResult.failed(str(exc).strip("'\"")), masker
        except (SecretError, ConfigErrors) as exc:
            return DeliveryResult.failed(f"delivery settings: {exc}"), masker
        try:
            payload = apply_mapping(parse_rules(delivery.mapping), lead.fields, self.hub.registry.transforms)
        except MappingError as exc:
            return DeliveryResult.rejected(f"mapping: {exc}"), masker
        ctx = build_delivery_context(
            config=config,
            payload=payload,
            lead=dict(lead.fields),
            lead_id=lead.id,
            source=source,
            dispatch_id=taken.dispatch_id,
            attempt=taken.attempt,
            http=self.http,
        )
        try:
            result = channel.deliver(ctx)
        except Exception as exc:  # a plugin bug must not kill the worker or lose the dispatch
            # Masked: the exception's text may hold a secret (an unmasked traceback would log it).
            log.error("channel %s raised on dispatch %s\n%s", delivery.channel, taken.dispatch_id,
                      masker.current_traceback(),
                      extra={"dispatch_id": taken.dispatch_id, "lead_id": lead.id, "delivery": delivery.slug})
            return DeliveryResult.failed(f"channel '{delivery.channel}' raised {type(exc).__name__}: {exc}"), masker
        if not isinstance(result, DeliveryResult):
            return DeliveryResult.failed(f"channel '{delivery.channel}' returned {type(result).__name__}, "
                                         "not a DeliveryResult"), masker
        return result, (masker.including(result.secrets) if result.secrets else masker)

    def _record(
        self, taken: Claim, delivery: Delivery, result: DeliveryResult, masker: Masker, started: Any, duration_ms: float
    ) -> tuple[DispatchStatus, float | None]:
        """Store the attempt and the dispatch's next state; returns it and the retry delay, if any."""
        status, delay = next_state(result, taken.round_attempt, delivery.max_attempts, self.hub.settings.retry_base_seconds)
        now = utcnow()
        message = masker.text(result.message)[:2000]
        attempt = dict(
            dispatch_id=taken.dispatch_id,
            number=taken.attempt,
            started_at=started,
            duration_ms=round(duration_ms, 2),
            outcome=result.outcome.value,
            message=message,
            remote_id=result.remote_id,
            request=masker.deep(msgspec.to_builtins(result.request)) if result.request else {},
            response=masker.deep(msgspec.to_builtins(result.response)) if result.response else {},
            details=masker.deep(msgspec.to_builtins(result.details)),
        )
        values: dict[str, Any] = {
            "status": status.value,
            "leased_until": None,
            "updated_at": now,
            "last_error": "" if status == DispatchStatus.ACCEPTED else message,
            "next_attempt_at": now + timedelta(seconds=delay) if delay is not None else None,
        }
        if result.remote_id is not None:
            values["remote_id"] = result.remote_id
        self.ledger.run({"claim": taken, "attempt": attempt, "dispatch": values})
        return status, delay

    def _ledger_batch(self, jobs: list[Any]) -> list[Any]:
        """One transaction for a batch of records (dicts) and claims (dispatch ids), records first."""
        results: list[Any] = [None] * len(jobs)
        with Session(self.hub.engine, expire_on_commit=False) as session:
            records = [job for job in jobs if isinstance(job, dict)]
            if records:
                _store_records(session, records)
            wanted = [job for job in jobs if isinstance(job, int)]
            taken = claim(session, wanted, self.hub.settings.lease_seconds) if wanted else {}
            loaded = _load_for_delivery(session, list(taken)) if taken else {}
            session.commit()
        for i, job in enumerate(jobs):
            # pop: a second message for the same dispatch in this batch finds it leased, as it would later.
            if isinstance(job, int) and (c := taken.pop(job, None)) is not None:
                results[i] = (c, *loaded[job])
        return results


def _store_records(session: Session, records: list[dict[str, Any]]) -> None:
    session.execute(insert(Attempt.__table__), [r["attempt"] for r in records])  # Core: no ORM flush
    table = Dispatch.__table__
    # Only the holder of the lease moves the dispatch on; a try that outlived
    # its lease is still logged, but the newer holder decides the status.
    session.execute(
        update(table)
        .where(table.c.id == bindparam("b_id"), table.c.leased_until == bindparam("b_lease"))
        .values(status=bindparam("status"), leased_until=None, updated_at=bindparam("updated_at"),
                last_error=bindparam("last_error"), next_attempt_at=bindparam("next_attempt_at"),
                remote_id=func.coalesce(bindparam("remote_id"), table.c.remote_id)),
        [{"remote_id": None, **r["dispatch"], "b_id": r["claim"].dispatch_id, "b_lease": r["claim"].leased_until}
         for r in records],
    )


def _load_for_delivery(session: Session, dispatch_ids: list[int]) -> dict[int, tuple[Lead, Delivery, str]]:
    """Each claimed dispatch's lead, delivery and source slug, in one query."""
    rows = session.execute(
        select(Dispatch.id, Lead, Delivery, Source.slug)
        .join(Lead, Lead.id == Dispatch.lead_id)
        .join(Delivery, Delivery.id == Dispatch.delivery_id)
        .join(Source, Source.id == Lead.source_id)
        .where(Dispatch.id.in_(dispatch_ids))
    ).all()
    return {dispatch_id: (lead, delivery, slug) for dispatch_id, lead, delivery, slug in rows}


def next_state(
    result: DeliveryResult, round_attempt: int, max_attempts: int, retry_base: float
) -> tuple[DispatchStatus, float | None]:
    """The dispatch status after a try, and the delay before the next one (pure)."""
    if result.outcome == Outcome.ACCEPTED:
        return DispatchStatus.ACCEPTED, None
    if result.outcome == Outcome.REJECTED:
        return DispatchStatus.REJECTED, None
    if round_attempt >= max_attempts:
        return DispatchStatus.DEAD, None
    return DispatchStatus.FAILED, backoff_seconds(round_attempt, base=retry_base, retry_after=result.retry_after)
