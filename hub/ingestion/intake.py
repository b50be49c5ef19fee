"""Intake: check a posted lead against its source and store it with its dispatches (the outbox).

Pure HTTP concerns (body size, content types) live in the web layer; this
module takes decoded fields and answers with a status code and a JSON body.
Checking needs no query (the source's rules are cached, see sources.py);
storing goes through the lead writer, which commits many leads at once.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import anyio.to_thread

from hub.ingestion.fields import dedupe_key, validate_lead
from hub.ingestion.sources import SourceBook, SourceRules
from hub.ingestion.writer import LeadWriter, NewLead, StoredLead
from hub.models import utcnow
from hub.runtime import Hub

log = logging.getLogger("leadhub.intake")

MAX_IDEMPOTENCY_KEY = 255
NO_KEY = "missing or wrong API key: send it as the X-API-Key header or the key query parameter"


@dataclass
class Answer:
    status_code: int
    body: dict[str, Any]
    dispatch_ids: list[int] = field(default_factory=list)


class Intake:
    """Receives leads for every source; ``enqueue`` sends dispatch ids once they are committed."""

    def __init__(self, hub: Hub, enqueue: Callable[[list[int], float | None], None]) -> None:
        self.hub = hub
        self.enqueue = enqueue
        self.sources = SourceBook(hub.engine, hub.open_secret)
        self.writer = LeadWriter(hub.engine, self._after_commit)

    def receive(self, slug: str, data: Mapping[str, Any], api_key: str | None,
                idempotency_key: str | None = None) -> Answer:
        """Check and store a lead, waiting for the commit (for threads; the webhook awaits :meth:`receive_async`)."""
        checked = self.check(self.sources.get(slug), slug, data, api_key, idempotency_key)
        if isinstance(checked, Answer):
            return checked
        return _answer(self.writer.write(checked))

    async def receive_async(self, slug: str, data: Mapping[str, Any], api_key: str | None,
                            idempotency_key: str | None = None) -> Answer:
        rules = self.sources.cached(slug)
        if rules is False:
            rules = await anyio.to_thread.run_sync(self.sources.get, slug)
        checked = self.check(rules, slug, data, api_key, idempotency_key)  # type: ignore[arg-type]
        if isinstance(checked, Answer):
            return checked
        return _answer(await asyncio.wrap_future(self.writer.submit(checked)))

    def check(self, source: SourceRules | None, slug: str, data: Mapping[str, Any], api_key: str | None,
              idempotency_key: str | None) -> Answer | NewLead:
        """The refusal to answer with, or the lead to store (no I/O)."""
        if source is None:
            return Answer(404, {"error": f"no source '{slug}'"})
        refusal = _check_key(source, api_key)
        if refusal is not None:
            return refusal
        if idempotency_key is None and source.idempotency_field:
            value = data.get(source.idempotency_field)
            idempotency_key = None if value in (None, "") else str(value)
        if idempotency_key is not None and len(idempotency_key) > MAX_IDEMPOTENCY_KEY:
            return Answer(422, {"error": "invalid lead",
                                "fields": {"Idempotency-Key": f"must be at most {MAX_IDEMPOTENCY_KEY} characters"}})
        clean, errors = validate_lead(source.specs, data)
        if errors:
            return Answer(422, {"error": "invalid lead", "fields": errors})
        return NewLead(source, clean, dedupe_key(clean, source.dedupe_on), idempotency_key, utcnow())

    def close(self) -> None:
        self.writer.close()

    def _after_commit(self, stored: list[tuple[NewLead, StoredLead]]) -> None:
        """Runs on the writer thread after each commit: send the due dispatches, tell the plugins."""
        due = [dispatch_id for _, result in stored for dispatch_id in result.due]
        if due:
            self.enqueue(due, None)
        for lead, result in stored:
            self.hub.registry.notify("leadhub_lead_received", lead={
                "id": result.lead_id, "source": lead.source.slug, "status": result.status, "fields": lead.fields})


def _check_key(source: SourceRules, given: str | None) -> Answer | None:
    if source.api_key is None:
        log.error("source %s has an unusable key: %s", source.slug, source.key_problem)
        return Answer(503, {"error": f"source '{source.slug}' is not configured correctly; try again later"})
    if not source.api_key:
        return None  # an open source, by the admin's choice
    if given is None or not hmac.compare_digest(given.encode(), source.api_key.encode()):
        return Answer(401, {"error": NO_KEY})
    return None


def _answer(stored: StoredLead) -> Answer:
    body: dict[str, Any] = {"lead_id": stored.lead_id, "status": stored.status}
    if stored.duplicate_of is not None:
        body["duplicate_of"] = stored.duplicate_of
    return Answer(202, body, sorted(stored.due))

