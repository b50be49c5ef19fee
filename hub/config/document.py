"""The shape of a configuration file (`leadhub apply` / `leadhub dump`); see shared/examples/hub.toml."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

Slug = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9_-]{0,99}$",
                                   description="lower-case letters, digits, - and _")]


class SourceDoc(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    slug: Slug
    name: str = ""
    api_key: str = ""  # a literal (stored encrypted) or env:NAME; empty = no key needed
    fields: list[dict[str, Any]] = []
    dedupe_on: list[str] = []
    dedupe_window_hours: Annotated[float, msgspec.Meta(gt=0, le=24 * 366)] = 24.0
    idempotency_field: str | None = None


class BuyerDoc(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    slug: Slug
    name: str = ""
    contact_email: str = ""


class DeliveryDoc(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    slug: Slug
    channel: str
    buyer: str | None = None
    name: str = ""
    sources: list[str] = []
    filter: str = ""
    max_attempts: Annotated[int, msgspec.Meta(ge=1, le=50)] = 6
    enabled: bool = True
    config: dict[str, Any] = {}
    mapping: list[dict[str, Any]] = []


class ExportDoc(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    slug: Slug
    transport: str
    schedule: str
    buyer: str | None = None
    name: str = ""
    sources: list[str] = []
    timezone: str = "UTC"
    format: str = "csv"
    zip_password: str = ""
    filename: str = ""
    delimiter: Annotated[str, msgspec.Meta(min_length=1, max_length=1)] = ","
    header: bool = True
    retention_days: Annotated[int, msgspec.Meta(ge=1, le=3650)] = 30
    link_ttl_hours: Annotated[int, msgspec.Meta(ge=1, le=24 * 90)] = 168
    max_attempts: Annotated[int, msgspec.Meta(ge=1, le=50)] = 5
    filter: str = ""
    enabled: bool = True
    config: dict[str, Any] = {}
    mapping: list[dict[str, Any]] = []


SECTIONS: dict[str, type[msgspec.Struct]] = {
    "sources": SourceDoc, "buyers": BuyerDoc, "deliveries": DeliveryDoc, "exports": ExportDoc,
}
