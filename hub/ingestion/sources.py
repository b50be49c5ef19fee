"""What intake needs to know about a source, read once and kept briefly, so a lead costs no extra queries.

A source's rules (key, fields, dedupe, its enabled deliveries and their filters)
change when an admin saves something, which is rare next to leads arriving. A
save through the ORM in this process is seen at once (an ORM event bumps the
generation); a save by another process (``leadhub apply``, a second ``serve``)
is seen within ``ttl_seconds``.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from functools import lru_cache

import msgspec
from sqlalchemy import event, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session

from hub.ingestion.fields import FieldSpec
from hub.mapping.filters import Filter, compile_filter
from hub.models import Delivery, DeliverySource, Source
from hub.secrets import SecretError

CONFIG_TABLES = (Source, Delivery, DeliverySource)
CONFIG_TABLE_NAMES = {cls.__tablename__ for cls in CONFIG_TABLES}
_generation = 0  # bumped by every committed in-process write to CONFIG_TABLES through a Session


@dataclass(frozen=True)
class SourceRules:
    id: int
    slug: str
    api_key: str | None  # None: the stored key cannot be opened (SecretError), so nothing is accepted
    key_problem: str
    specs: tuple[FieldSpec, ...]
    dedupe_on: tuple[str, ...]
    dedupe_window_hours: float
    idempotency_field: str | None
    deliveries: tuple[tuple[int, Filter | None, str], ...]  # (delivery id, compiled filter or None, filter text)


@lru_cache(maxsize=1024)
def _filter(text: str) -> Filter:
    return compile_filter(text)


@lru_cache(maxsize=1024)
def _specs(raw: bytes) -> tuple[FieldSpec, ...]:
    return tuple(msgspec.json.decode(raw, type=list[FieldSpec]))


class SourceBook:
    """Source rules by slug, cached for ``ttl_seconds``; ``open_secret`` turns the stored key into the real one."""

    def __init__(self, engine: Engine, open_secret, ttl_seconds: float = 2.0) -> None:  # type: ignore[no-untyped-def]
        self.engine = engine
        self.open_secret = open_secret
        self.ttl = ttl_seconds
        self._cache: dict[str, tuple[float, int, SourceRules | None]] = {}
        self._lock = threading.Lock()

    def cached(self, slug: str) -> SourceRules | None | bool:
        """The rules if fresh in the cache (None for a source that does not exist); False when a read is due."""
        entry = self._cache.get(slug)
        if entry is None or entry[0] < time.monotonic() or entry[1] != _generation:
            return False
        return entry[2]

    def get(self, slug: str) -> SourceRules | None:
        """The source's rules, read from the database when not fresh in the cache; None if there is no such source."""
        hit = self.cached(slug)
        if hit is not False:
            return hit  # type: ignore[return-value]
        generation = _generation
        rules = self._read(slug)
        with self._lock:
            if len(self._cache) > 10_000:  # slugs are chosen by whoever posts: do not let misses grow forever
                self._cache.clear()
            self._cache[slug] = (time.monotonic() + self.ttl, generation, rules)
        return rules

    def _read(self, slug: str) -> SourceRules | None:
        with Session(self.engine) as session:
            source = session.execute(select(Source).where(Source.slug == slug)).scalar_one_or_none()
            if source is None:
                return None
            deliveries = session.execute(
                select(Delivery.id, Delivery.filter)
                .join(DeliverySource, DeliverySource.delivery_id == Delivery.id)
                .where(DeliverySource.source_id == source.id, Delivery.enabled.is_(True))
                .order_by(Delivery.id)
            ).all()
        try:
            api_key, problem = self.open_secret(source.api_key), ""
        except SecretError as exc:
            api_key, problem = None, str(exc)
        return SourceRules(
            id=source.id, slug=source.slug, api_key=api_key, key_problem=problem,
            specs=_specs(msgspec.json.encode(source.fields)), dedupe_on=tuple(source.dedupe_on),
            dedupe_window_hours=source.dedupe_window_hours, idempotency_field=source.idempotency_field,
            deliveries=tuple((d_id, _filter(text) if text else None, text or "") for d_id, text in deliveries),
        )


# Bumped after commit, not at flush: a read racing an uncommitted save must not be cached as current.
@event.listens_for(OrmSession, "after_flush")
def _config_flushed(session, _context) -> None:  # type: ignore[no-untyped-def]
    if any(isinstance(obj, CONFIG_TABLES) for obj in (*session.new, *session.dirty, *session.deleted)):
        session.info["leadhub_config_changed"] = True


@event.listens_for(OrmSession, "do_orm_execute")
def _config_bulk_write(state) -> None:  # type: ignore[no-untyped-def]
    table = getattr(state.statement, "table", None)
    if (state.is_insert or state.is_update or state.is_delete) and getattr(table, "name", None) in CONFIG_TABLE_NAMES:
        state.session.info["leadhub_config_changed"] = True


@event.listens_for(OrmSession, "after_commit")
def _config_committed(session) -> None:  # type: ignore[no-untyped-def]
    global _generation
    if session.info.pop("leadhub_config_changed", False):
        _generation += 1
