"""An embedded hub for tests: a fresh SQLite database in a folder, plugins of your choice."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from hub.migrate import upgrade
from hub.models import Buyer, Delivery, DeliverySource, Export, ExportSource, Source
from hub.plugins.configs import map_secrets
from hub.plugins.registry import load_registry
from hub.runtime import Hub, open_hub
from hub.settings import load_settings

#: Settings that make retries and sweeps quick enough to watch in a test.
FAST = {"HUB_RETRY_BASE_SECONDS": "0.05", "HUB_SWEEP_INTERVAL": "0.2", "HUB_SWEEP_GRACE": "1",
        "HUB_WORKER_THREADS": "4"}


def make_test_hub(data_dir: Path, *, plugins: Iterable[tuple[str, object]] = (), env: dict[str, str] | None = None,
                  fast: bool = True) -> Hub:
    """A migrated hub under ``data_dir`` with every installed plugin plus ``plugins``.

    ``env`` adds HUB_* settings (e.g. HUB_DATABASE_URL); the process environment
    is used for everything else, so ``env:`` secrets resolve as in production.
    """
    settings_env = {**os.environ, **(FAST if fast else {}), "HUB_DATA_DIR": str(data_dir), **(env or {})}
    for name in ("HUB_DATABASE_URL", "HUB_BROKER_URL"):
        if env is None or name not in env:
            settings_env.pop(name, None)
    hub = open_hub(load_settings(settings_env), load_registry(extra_plugins=plugins))
    upgrade(hub.engine)
    return hub


def add_source(hub: Hub, slug: str, fields: list[dict[str, Any]], *, api_key: str = "test-key",
               **columns: Any) -> int:
    """Store a source (fields as in a config file); returns its id."""
    with Session(hub.engine) as session:
        source = Source(slug=slug, name=slug, api_key=hub.box.seal(api_key), fields=fields, **columns)
        session.add(source)
        session.commit()
        return source.id


def add_delivery(hub: Hub, slug: str, *, sources: list[str], channel: str, config: dict[str, Any] | None = None,
                 mapping: list[dict[str, Any]] | None = None, buyer: str = "test-buyer", **columns: Any) -> int:
    """Store a delivery as ``leadhub apply`` would (secrets sealed); returns its id."""
    sealed = map_secrets(hub.registry.channel(channel).Config, config or {}, lambda _path, value: hub.box.seal(value))
    with Session(hub.engine) as session:
        delivery = Delivery(slug=slug, buyer_id=_buyer_id(session, buyer), channel=channel, config=sealed,
                            mapping=mapping or [], **columns)
        session.add(delivery)
        session.flush()
        session.add_all(DeliverySource(delivery_id=delivery.id, source_id=s) for s in _source_ids(session, sources))
        session.commit()
        return delivery.id


def _buyer_id(session: Session, slug: str) -> int:
    """The buyer's id, creating the buyer on first use."""
    buyer = session.execute(select(Buyer).where(Buyer.slug == slug)).scalar_one_or_none()
    if buyer is None:
        buyer = Buyer(slug=slug, name=slug)
        session.add(buyer)
        session.flush()
    return buyer.id


def _source_ids(session: Session, slugs: list[str]) -> list[int]:
    return [session.execute(select(Source.id).where(Source.slug == slug)).scalar_one() for slug in slugs]


def wait_until(predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.02) -> Any:
    """Poll ``predicate`` until it returns something truthy, and return that; fail clearly otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


def add_export(hub: Hub, slug: str, *, sources: list[str], transport: str, config: dict[str, Any],
               buyer: str = "test-buyer", **columns: Any) -> int:
    """Store an export as ``leadhub apply`` would (secrets sealed); returns its id."""
    sealed = map_secrets(hub.registry.transport(transport).Config, config, lambda _path, value: hub.box.seal(value))
    if columns.get("zip_password"):
        columns["zip_password"] = hub.box.seal(columns["zip_password"])
    with Session(hub.engine) as session:
        export = Export(slug=slug, buyer_id=_buyer_id(session, buyer), transport=transport, config=sealed, **columns)
        session.add(export)
        session.flush()
        session.add_all(ExportSource(export_id=export.id, source_id=s) for s in _source_ids(session, sources))
        session.commit()
        return export.id


def store_leads(hub: Hub, source: str, leads: Iterable[dict[str, Any]], api_key: str | None = None) -> list[int]:
    """Post leads through the real intake, sending nothing to a broker; returns their dispatch ids, in order."""
    return [dispatch_id for answer in _post(hub, source, leads, api_key) for dispatch_id in answer.dispatch_ids]


def _post(hub: Hub, source: str, leads: Iterable[dict[str, Any]], api_key: str | None) -> list[Any]:
    """Each lead's intake answer (a 202, or AssertionError); nothing goes to a broker."""
    from hub.ingestion.intake import Intake

    answers = []
    intake = Intake(hub, lambda _ids, _delay: None)
    try:
        for fields in leads:
            answer = intake.receive(source, fields, api_key)
            if answer.status_code != 202:
                raise AssertionError(f"the lead was refused ({answer.status_code}): {answer.body}")
            answers.append(answer)
    finally:
        intake.close()
    return answers


def deliver_lead(hub: Hub, source: str, fields: dict[str, Any], api_key: str | None = None) -> dict[str, Any]:
    """Post a lead through the real intake and run each of its dispatches once, here and now.

    Returns the lead's record (as ``GET /api/v1/leads/{id}``): dispatches with their attempts.
    Retries are not run; look at the record's statuses to see what would be.
    """
    from hub.delivery.records import lead_record
    from hub.delivery.runner import DeliveryRunner
    from hub.delivery.service import make_http_client

    (answer,) = _post(hub, source, [fields], api_key)  # the dispatches are run below instead
    with make_http_client(2) as http:
        runner = DeliveryRunner(hub, http, lambda *_: None)
        try:
            for dispatch_id in answer.dispatch_ids:
                runner.run(dispatch_id)
        finally:
            runner.close()
    with Session(hub.engine) as session:
        return lead_record(session, answer.body["lead_id"])
