"""`leadhub dump`: the stored configuration as a file `leadhub apply` accepts back.

Secrets stored as ``env:NAME`` references are written as they are; literal
secrets are written as ``********``, which `apply` reads as "keep the stored one".
"""

from __future__ import annotations

import json
from typing import Any, Literal

import msgspec
import tomli_w
import yaml
from sqlalchemy import select
from sqlmodel import Session

from hub.config.document import BuyerDoc, DeliveryDoc, ExportDoc, SourceDoc
from hub.models import Buyer, Delivery, DeliverySource, Export, ExportSource, Source
from hub.plugins.configs import map_secrets
from hub.runtime import Hub
from hub.secrets import MASK


def _shown(stored: str) -> str:
    return stored if not stored or stored.startswith("env:") else MASK


def _plain(doc: msgspec.Struct) -> dict[str, Any]:
    """A document entry without its default values (and without nulls, which TOML cannot hold)."""
    return {k: v for k, v in msgspec.to_builtins(doc).items() if v is not None}


def dump_document(hub: Hub) -> dict[str, Any]:
    with Session(hub.engine) as session:
        sources = list(session.execute(select(Source).order_by(Source.slug)).scalars())
        buyers = list(session.execute(select(Buyer).order_by(Buyer.slug)).scalars())
        deliveries = list(session.execute(select(Delivery).order_by(Delivery.slug)).scalars())
        exports = list(session.execute(select(Export).order_by(Export.slug)).scalars())
        slug_of_source = {s.id: s.slug for s in sources}
        slug_of_buyer = {b.id: b.slug for b in buyers}
        delivery_sources = session.execute(select(DeliverySource.delivery_id, DeliverySource.source_id)).all()
        export_sources = session.execute(select(ExportSource.export_id, ExportSource.source_id)).all()

    def linked(pairs: list[Any], owner_id: int) -> list[str]:
        return sorted(slug_of_source[s] for o, s in pairs if o == owner_id)

    def config(kind: str, name: str, stored: dict[str, Any]) -> dict[str, Any]:
        registry = hub.registry
        plugins = registry.channels if kind == "channel" else registry.transports
        if name not in plugins:  # plugin uninstalled: we cannot tell its secrets apart, so hide every string
            return {k: MASK if isinstance(v, str) and v.startswith("enc:") else v for k, v in stored.items()}
        return map_secrets(plugins[name].Config, stored, lambda _path, value: _shown(value))

    document: dict[str, Any] = {
        "sources": [_plain(SourceDoc(slug=s.slug, name=s.name, api_key=_shown(s.api_key), fields=s.fields,
                                     dedupe_on=s.dedupe_on, dedupe_window_hours=s.dedupe_window_hours,
                                     idempotency_field=s.idempotency_field)) for s in sources],
        "buyers": [_plain(BuyerDoc(slug=b.slug, name=b.name, contact_email=b.contact_email)) for b in buyers],
        "deliveries": [_plain(DeliveryDoc(
            slug=d.slug, channel=d.channel, buyer=slug_of_buyer.get(d.buyer_id), name=d.name,
            sources=linked(delivery_sources, d.id), filter=d.filter, max_attempts=d.max_attempts,
            enabled=d.enabled, config=config("channel", d.channel, d.config), mapping=d.mapping))
            for d in deliveries],
        "exports": [_plain(ExportDoc(
            slug=e.slug, transport=e.transport, schedule=e.schedule, buyer=slug_of_buyer.get(e.buyer_id),
            name=e.name, sources=linked(export_sources, e.id), timezone=e.timezone, format=e.format,
            zip_password=_shown(e.zip_password), filename=e.filename, delimiter=e.delimiter, header=e.header,
            retention_days=e.retention_days, link_ttl_hours=e.link_ttl_hours, max_attempts=e.max_attempts,
            filter=e.filter, enabled=e.enabled, config=config("transport", e.transport, e.config),
            mapping=e.mapping)) for e in exports],
    }
    return {k: v for k, v in document.items() if v}


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value if v is not None]
    return value


def dump_text(document: dict[str, Any], fmt: Literal["toml", "yaml", "json"] = "toml") -> str:
    if fmt == "toml":
        return tomli_w.dumps(_without_nulls(document))  # TOML has no null: a missing key means the default
    if fmt == "yaml":
        return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
