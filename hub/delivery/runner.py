"""Run dispatches: claim them, map each lead, call the channel, record the attempt.

This is the body of the one generic worker actor. It never raises for a buyer's
or a plugin's failure: every try ends as an ``Attempt`` row and a new dispatch
status, and a failed try is scheduled again in the row itself.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import timedelta
from typing import Any

import httpx
import msgspec

from hub import metrics
from hub.batching import GroupCommit
from hub.db import KeptConnection
from hub.delivery import ledger
from hub.delivery.context import build_delivery_context
from hub.delivery.ledger import Claim, Claimed, DeliveryRow, LeadRow
from hub.delivery.retry import backoff_seconds
from hub.driver_sql import DriverSql
from hub.mapping.engine import MappingError, apply_mapping, parse_rules
from hub.models import Delivery, DispatchStatus, Lead, utcnow
from hub.plugins.configs import ConfigErrors
from hub.plugins.contract import DeliveryResult, Outcome
from hub.runtime import Hub
from hub.secrets import Masker, SecretError

log = logging.getLogger("leadhub.delivery")

Enqueue = Callable[[list[int], float | None], None]

#: How long a try's record may wait for company in the ledger (see hub.batching). At a few
#: hundred tries a second a batch used to carry one or two, each batch's fixed cost theirs alone.
RECORD_LINGER_SECONDS = 0.005


class ClaimSlots:
    """How many more dispatches this worker may claim: a slot is taken by a claim and given back
    when the try's record (or the dispatch handed back untried) is committed.

    A message's ids are claimed in chunks, one ledger round trip each, only as
    slots are free. So however the tries go, at most ``total`` dispatches are
    claimed and not yet recorded: that many can wait out their lease after a
    crash, and that many tries can be made twice. Claiming each dispatch on its
    own thread as it started cost two more thread hand-overs a try (about 15 %
    of a try's CPU).
    """

    def __init__(self, total: int, chunk: int) -> None:
        self.chunk = chunk  # under load, wait for this many free slots rather than claim one at a time
        self._free = total
        self._changed = threading.Condition()

    def take(self, wanted: int) -> int:
        """Wait until ``min(wanted, chunk)`` slots are free; take up to ``wanted`` of them."""
        with self._changed:
            while self._free < min(wanted, self.chunk):
                self._changed.wait()
            taken = min(wanted, self._free)
            self._free -= taken
            if self._free >= self.chunk:
                self._changed.notify()  # enough left for another waiting message
            return taken

    def give(self, count: int = 1) -> None:
        with self._changed:
            self._free += count
            # Waking a waiting message for fewer slots would have it claim one dispatch at a time.
            if count and self._free >= self.chunk:
                self._changed.notify()


class DeliveryRunner:
    """Runs dispatches for one worker process; ``http`` is its shared, pooled client.

    A broker message carries a batch of dispatch ids. They are claimed in chunks as
    delivery threads come free (see ClaimSlots), then tried side by side on
    ``threads`` delivery threads, so a slow buyer holds up only its own tries. The
    claims and records of all threads share one transaction (see hub.batching).
    """

    def __init__(self, hub: Hub, http: httpx.Client, enqueue: Enqueue, threads: int = 1) -> None:
        self.hub = hub
        self.http = http
        self.enqueue = enqueue
        self.sql = DriverSql(hub.engine.dialect.name)
        # Claims and records of every thread, committed together (see hub.batching). Nobody waits
        # for a record, so records wait a little for claims or other records to share their batch.
        self.ledger: GroupCommit[list[int] | dict[str, Any] | Claim, Any] = GroupCommit(
            "leadhub-dispatch-ledger", self._ledger_batch, after=self._after_commit, linger=RECORD_LINGER_SECONDS)
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="leadhub-deliver") if threads > 1 else None
        self._slots = ClaimSlots(total=threads * 2, chunk=max(threads // 2, 1))
        self._stopping = False
        # The ledger thread keeps its connection: checking one out of the pool per batch cost a
        # twentieth of a try on SQLite, and a round trip to a server.
        self._ledger_conn = KeptConnection(hub.engine)

    def stop_taking(self) -> None:
        """Start no new tries (shutting down): the ones in flight finish, the rest stay due for the next worker."""
        self._stopping = True

    def close(self) -> None:
        self.stop_taking()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        self.ledger.close()
        self._ledger_conn.close()

    def run(self, dispatch_id: int) -> DispatchStatus | None:
        """Try a dispatch once if it is due; returns its new status, or None if not ours to run."""
        futures = self.start_batch([dispatch_id])
        return futures[dispatch_id].result() if futures else None

    def run_batch(self, dispatch_ids: Iterable[int]) -> dict[int, DispatchStatus]:
        """Try each due dispatch of ``dispatch_ids`` once; returns the new status of each one that was ours."""
        futures = self.start_batch(dispatch_ids)
        wait(futures.values())
        statuses = {dispatch_id: future.result() for dispatch_id, future in futures.items()}
        return {dispatch_id: status for dispatch_id, status in statuses.items() if status is not None}

    def start_batch(self, dispatch_ids: Iterable[int]) -> dict[int, Future[DispatchStatus | None]]:
        """Claim the due ones of ``dispatch_ids`` as delivery threads come free, and start their tries.

        Returns once the last is claimed, not when the tries end: that is the broker's
        message done with, and its thread free to claim the next message's dispatches while
        these are tried. So small messages, a lead or two each under a light load, are not
        tried one message per thread at a time; and the claims of many messages share a
        ledger batch. If the worker stops, a try under way finishes and is recorded; one still
        waiting for a thread is handed back (see :meth:`_finish`).
        """
        ids = list(dispatch_ids)
        futures: dict[int, Future[DispatchStatus | None]] = {}
        while ids and not self._stopping:  # once stopping, the unclaimed stay due for the next worker
            taken = self._slots.take(len(ids))
            if self._stopping:  # the stop came while this waited for free threads
                self._slots.give(taken)
                break
            chunk, ids = ids[:taken], ids[taken:]
            try:
                claimed: list[Claimed] = self.ledger.run(chunk)
            except BaseException:
                self._slots.give(taken)
                raise
            self._slots.give(taken - len(claimed))  # ids not due, or leased by another worker
            for one in claimed:
                futures[one.taken.dispatch_id] = self._start(one)
        return futures

    def _start(self, claimed: Claimed) -> Future[DispatchStatus | None]:
        """The claimed dispatch's try: on a delivery thread, or here and now for a runner without a pool."""
        if self._pool is not None:
            return self._pool.submit(self._finish, claimed)
        future: Future[DispatchStatus | None] = Future()
        try:
            future.set_result(self._finish(claimed))
        except BaseException as exc:  # as a pool's future would hold it, so the other claimed ones still run
            future.set_exception(exc)
        return future

    def _finish(self, claimed: Claimed) -> DispatchStatus | None:
        """Try a claimed dispatch and queue its record (after committing it, the ledger schedules a retry).

        A dispatch whose thread came free only after the stop is handed back untried (None),
        for the next worker to take at once rather than after its lease. The claim's slot is
        given back once the record or the hand-back is committed (see :meth:`_after_commit`).
        """
        if self._stopping:
            self.ledger.submit(claimed.taken, urgent=False)
            return None
        taken, lead, delivery, source_slug = claimed
        dispatch_id = taken.dispatch_id
        started = utcnow()
        clock = time.perf_counter()
        try:
            result, masker = self._attempt(taken, lead, delivery, source_slug)
            duration_ms = (time.perf_counter() - clock) * 1000
            status = self._record(taken, delivery, result, masker, started, duration_ms)
        except BaseException:  # no record to commit (a bug): the slot comes back now, the lease runs out
            self._slots.give()
            raise
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

    def _attempt(self, taken: Claim, lead: Lead | LeadRow, delivery: Delivery | DeliveryRow,
                 source: str) -> tuple[DeliveryResult, Masker]:
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
        self, taken: Claim, delivery: DeliveryRow, result: DeliveryResult, masker: Masker, started: Any, duration_ms: float
    ) -> DispatchStatus:
        """Queue the attempt and the dispatch's next state for the ledger; returns that state."""
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
            "updated_at": now,
            "last_error": "" if status == DispatchStatus.ACCEPTED else message,
            "next_attempt_at": now + timedelta(seconds=delay) if delay is not None else None,
        }
        if result.remote_id is not None:
            values["remote_id"] = result.remote_id
        # Not waited for: the delivery thread moves on while the ledger commits this with others.
        # Until then the lease keeps the dispatch ours; close() commits what is still queued.
        self.ledger.submit({"claim": taken, "attempt": attempt, "dispatch": values, "retry_in": delay}, urgent=False)
        return status

    def _after_commit(self, jobs: list[Any], results: Sequence[Any]) -> None:
        """Once committed: a slot back for each record and hand-back, the broker woken for what is due again."""
        ended = sum(1 for job in jobs if not isinstance(job, list))  # committed or not, the try is over
        if ended:
            self._slots.give(ended)
        handed_back = [job.dispatch_id for job, result in zip(jobs, results)
                       if isinstance(job, Claim) and not isinstance(result, BaseException)]
        if handed_back:
            self.enqueue(handed_back, None)
        for job, result in zip(jobs, results):
            if not isinstance(job, dict):
                continue
            dispatch_id = job["claim"].dispatch_id
            if isinstance(result, BaseException):
                log.error("could not record try %s of dispatch %s (%s); it runs again when its lease ends",
                          job["claim"].attempt, dispatch_id, result, extra={"dispatch_id": dispatch_id})
            elif job["retry_in"] is not None:
                self.enqueue([dispatch_id], job["retry_in"])

    def _ledger_batch(self, jobs: list[Any]) -> list[Any]:
        """One transaction for a batch: records (dicts), hand-backs (Claims), then claims (lists of ids)."""
        conn = self._ledger_conn.get()
        try:
            with self.sql.transaction(conn):  # on PostgreSQL, one round trip for the lot
                records = [job for job in jobs if isinstance(job, dict)]
                if records:
                    ledger.store(self.sql, conn, records)
                if handed_back := [job for job in jobs if isinstance(job, Claim)]:
                    ledger.hand_back(self.sql, conn, handed_back)
                wanted = [dispatch_id for job in jobs if isinstance(job, list) for dispatch_id in job]
                claiming = ledger.claim(self.sql, conn, wanted, self.hub.settings.lease_seconds) if wanted else None
            loaded = claiming.read(self.sql) if claiming else {}
        except BaseException:
            self._ledger_conn.discard()  # whatever went wrong, the next batch starts on a fresh connection
            raise
        # pop: an id asked for twice in this batch is claimed once, as a second message would find it leased.
        return [[loaded.pop(i) for i in job if i in loaded] if isinstance(job, list) else None for job in jobs]


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
