"""`leadhub apply`: check a whole configuration file, then upsert it by slug in one transaction.

Nothing is written unless every entry is valid, and every problem is reported
at once with where it is. Secrets are sealed (encrypted) before they are
stored; ``env:NAME`` references are kept as written; a masked value
(``********``, as `leadhub dump` writes) keeps the secret already stored.
"""

from __future__ import annotations

import json
import tomllib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import yaml
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import delete, select
from sqlmodel import Session, SQLModel

from hub.config.document import SECTIONS, DeliveryDoc, ExportDoc, SourceDoc
from hub.export.files import FORMATS
from hub.export.schedule import schedule_errors
from hub.ingestion.fields import validate_specs
from hub.mapping.engine import validate_rules
from hub.mapping.filters import FilterError, compile_filter
from hub.mapping.templates import check_template
from hub.models import Buyer, Delivery, DeliverySource, Export, ExportSource, Source, utcnow
from hub.plugins.configs import ConfigErrors, decode_config, map_secrets
from hub.runtime import Hub
from hub.secrets import MASK, SecretError


class ApplyError(ValueError):
    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__(f"{len(errors)} problem(s): " + "; ".join(errors[:5]))


@dataclass
class ApplyReport:
    lines: list[str] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)

    def note(self, kind: str, slug: str, change: str) -> None:
        self.lines.append(f"{kind} {slug}: {change}")
        self.counts[change] += 1


def load_file(path: Path) -> dict[str, Any]:
    """Read TOML, YAML or JSON by extension; a syntax error names the line."""
    text = path.read_text(encoding="utf-8")
    suffix = path.suffix.lower()
    try:
        if suffix == ".toml":
            data = tomllib.loads(text)
        elif suffix in (".yaml", ".yml"):
            data = yaml.safe_load(text)
        elif suffix == ".json":
            data = json.loads(text)
        else:
            raise ApplyError([f"{path.name}: use a .toml, .yaml/.yml or .json file"])
    except (tomllib.TOMLDecodeError, yaml.YAMLError, json.JSONDecodeError) as exc:
        raise ApplyError([f"{path.name}: not valid {suffix.lstrip('.').upper()}: {exc}"]) from None
    if not isinstance(data, dict):
        raise ApplyError([f"{path.name}: expected tables named sources, buyers, deliveries, exports"])
    return data


def _where(section: str, index: int, item: Any) -> str:
    slug = item.get("slug") if isinstance(item, dict) else None
    return f"{section}[{index}]" + (f" ({slug})" if slug else "")


def _decode(raw: Mapping[str, Any], errors: list[str]) -> dict[str, list[tuple[str, Any]]]:
    docs: dict[str, list[tuple[str, Any]]] = {name: [] for name in SECTIONS}
    for key in raw:
        if key not in SECTIONS:
            errors.append(f"{key}: unknown section; expected {', '.join(SECTIONS)}")
    for section, cls in SECTIONS.items():
        items = raw.get(section, [])
        if not isinstance(items, list):
            errors.append(f"{section}: must be a list of tables ([[{section}]])")
            continue
        seen: set[str] = set()
        for index, item in enumerate(items):
            where = _where(section, index, item)
            try:
                doc = msgspec.convert(item, cls)
            except msgspec.ValidationError as exc:
                errors.append(f"{where}: {_msgspec_message(exc)}")
                continue
            if doc.slug in seen:
                errors.append(f"{where}.slug: '{doc.slug}' appears twice in {section}")
            seen.add(doc.slug)
            docs[section].append((where, doc))
    return docs


def _msgspec_message(exc: msgspec.ValidationError) -> str:
    text = str(exc).replace("`", "")
    if " - at $." in text:
        message, _, path = text.partition(" - at $.")
        return f"{path}: {message[:1].lower()}{message[1:]}"
    return text[:1].lower() + text[1:]


def _slugs(session: Session, model: type[SQLModel]) -> dict[str, Any]:
    return {row.slug: row for row in session.execute(select(model)).scalars()}


def _keep_or_seal(hub: Hub, new: str, stored: str | None) -> str:
    """The value to store for a secret: the stored one if unchanged or masked, else the sealed new one."""
    if new == MASK:
        return stored or ""
    if stored:
        try:
            if stored == new or hub.box.open(stored) == new:
                return stored
        except SecretError:
            pass
    return hub.box.seal(new)


def _at(data: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data


class _Checker:
    """Validates the decoded documents against each other, the database and the installed plugins."""

    def __init__(self, hub: Hub, session: Session, docs: dict[str, list[tuple[str, Any]]]) -> None:
        self.hub, self.docs = hub, docs
        self.errors: list[str] = []
        self.source_slugs = {d.slug for _, d in docs["sources"]} | set(_slugs(session, Source))
        self.buyer_slugs = {d.slug for _, d in docs["buyers"]} | set(_slugs(session, Buyer))
        self.stored_deliveries = _slugs(session, Delivery)
        self.stored_exports = _slugs(session, Export)

    def add(self, where: str, problems: Mapping[str, str]) -> None:
        self.errors.extend(f"{where}.{key}: {message}" for key, message in problems.items())

    def run(self) -> list[str]:
        for where, doc in self.docs["sources"]:
            self._source(where, doc)
        for where, doc in self.docs["buyers"]:
            if doc.contact_email:
                try:
                    validate_email(doc.contact_email, check_deliverability=False)
                except EmailNotValidError as exc:
                    self.add(where, {"contact_email": str(exc)})
        for where, doc in self.docs["deliveries"]:
            self._delivery(where, doc)
        for where, doc in self.docs["exports"]:
            self._export(where, doc)
        return self.errors

    def _source(self, where: str, doc: SourceDoc) -> None:
        specs, problems = validate_specs(doc.fields)
        self.add(where, problems)
        names = {s.name for s in specs}
        for name in doc.dedupe_on:
            if name not in names:
                self.add(where, {"dedupe_on": f"'{name}' is not one of the source's fields"})

    def _links(self, where: str, buyer: str | None, sources: list[str]) -> None:
        if buyer is not None and buyer not in self.buyer_slugs:
            self.add(where, {"buyer": f"no buyer '{buyer}' in the file or the database"})
        for slug in sources:
            if slug not in self.source_slugs:
                self.add(where, {"sources": f"no source '{slug}' in the file or the database"})

    def _common(self, where: str, doc: DeliveryDoc | ExportDoc) -> None:
        try:
            compile_filter(doc.filter)
        except FilterError as exc:
            self.add(where, {"filter": str(exc)})
        _, problems = validate_rules(doc.mapping, self.hub.registry.transforms)
        self.errors.extend(f"{where}.{key}: {message}" for key, message in problems.items())

    def _plugin_config(self, where: str, cls: type[msgspec.Struct], config: dict[str, Any],
                       stored: dict[str, Any] | None) -> Any:
        unmasked = map_secrets(cls, config, lambda path, value: (_at(stored, path) or "") if value == MASK else value)
        try:
            return decode_config(cls, unmasked)
        except ConfigErrors as exc:
            self.add(where, {f"config.{key}": message for key, message in exc.errors.items()})
            return None

    def _delivery(self, where: str, doc: DeliveryDoc) -> None:
        self._links(where, doc.buyer, doc.sources)
        self._common(where, doc)
        try:
            channel = self.hub.registry.channel(doc.channel)
        except LookupError as exc:
            self.add(where, {"channel": str(exc).strip("'\"")})
            return
        stored = self.stored_deliveries.get(doc.slug)
        config = self._plugin_config(where, channel.Config, doc.config, stored.config if stored else None)
        if config is not None:
            targets = [str(rule.get("target", "")) for rule in doc.mapping if isinstance(rule, dict)]
            self.add(where, channel.validate_delivery(config, targets))

    def _export(self, where: str, doc: ExportDoc) -> None:
        self._links(where, doc.buyer, doc.sources)
        self._common(where, doc)
        self.add(where, schedule_errors(doc.schedule, doc.timezone))
        if doc.format not in FORMATS:
            self.add(where, {"format": f"'{doc.format}' is not a file format; use one of: {', '.join(FORMATS)}"})
        if doc.filename and (problem := check_template(doc.filename)):
            self.add(where, {"filename": problem})
        try:
            transport = self.hub.registry.transport(doc.transport)
        except LookupError as exc:
            self.add(where, {"transport": str(exc).strip("'\"")})
            return
        stored = self.stored_exports.get(doc.slug)
        self._plugin_config(where, transport.Config, doc.config, stored.config if stored else None)


def _upsert(session: Session, model: type[SQLModel], existing: dict[str, Any], slug: str,
            values: dict[str, Any], report: ApplyReport, kind: str) -> Any:
    row = existing.get(slug)
    if row is None:
        row = model(slug=slug, **values)
        session.add(row)
        session.flush()
        existing[slug] = row
        report.note(kind, slug, "created")
        return row
    changed = {k: v for k, v in values.items() if getattr(row, k) != v}
    for key, value in changed.items():
        setattr(row, key, value)
    if changed:
        row.updated_at = utcnow()
        session.add(row)
    report.note(kind, slug, "updated" if changed else "unchanged")
    return row


def _relink(session: Session, link: type[SQLModel], owner_field: str, owner_id: int, source_ids: set[int]) -> bool:
    current = set(session.execute(select(link.source_id).where(getattr(link, owner_field) == owner_id)).scalars())
    if current == source_ids:
        return False
    session.execute(delete(link).where(getattr(link, owner_field) == owner_id))
    session.add_all(link(**{owner_field: owner_id, "source_id": sid}) for sid in sorted(source_ids))
    return True


def _write(hub: Hub, session: Session, docs: dict[str, list[tuple[str, Any]]]) -> ApplyReport:
    report = ApplyReport()
    sources, buyers = _slugs(session, Source), _slugs(session, Buyer)
    deliveries, exports = _slugs(session, Delivery), _slugs(session, Export)
    for _, doc in docs["sources"]:
        stored = sources.get(doc.slug)
        _upsert(session, Source, sources, doc.slug, {
            "name": doc.name, "api_key": _keep_or_seal(hub, doc.api_key, stored.api_key if stored else None),
            "fields": doc.fields, "dedupe_on": doc.dedupe_on, "dedupe_window_hours": doc.dedupe_window_hours,
            "idempotency_field": doc.idempotency_field}, report, "source")
    for _, doc in docs["buyers"]:
        _upsert(session, Buyer, buyers, doc.slug, {"name": doc.name, "contact_email": doc.contact_email},
                report, "buyer")
    for kind, section, model, link, owner, existing in (
        ("delivery", "deliveries", Delivery, DeliverySource, "delivery_id", deliveries),
        ("export", "exports", Export, ExportSource, "export_id", exports),
    ):
        for _, doc in docs[section]:
            cls = (hub.registry.channel(doc.channel) if kind == "delivery" else hub.registry.transport(doc.transport)).Config
            stored = existing.get(doc.slug)
            config = map_secrets(cls, doc.config, lambda path, value, s=stored: _keep_or_seal(
                hub, value, _at(s.config if s else None, path)))
            # Every field, defaults included, so removing a key from the file resets it.
            values = {name: getattr(doc, name) for name in doc.__struct_fields__
                      if name not in ("slug", "buyer", "sources")}
            values.update(config=config, buyer_id=buyers[doc.buyer].id if doc.buyer else None)
            if kind == "export":
                values["zip_password"] = _keep_or_seal(hub, doc.zip_password, stored.zip_password if stored else None)
            before = len(report.lines)
            row = _upsert(session, model, existing, doc.slug, values, report, kind)
            if _relink(session, link, owner, row.id, {sources[s].id for s in doc.sources}) and \
                    report.lines[before].endswith("unchanged"):
                report.counts["unchanged"] -= 1
                report.counts["updated"] += 1
                report.lines[before] = f"{kind} {doc.slug}: updated"
    return report


def apply_document(hub: Hub, raw: Mapping[str, Any]) -> ApplyReport:
    """Validate everything, then write everything in one transaction; raises ApplyError listing all problems."""
    errors: list[str] = []
    docs = _decode(raw, errors)
    with Session(hub.engine, expire_on_commit=False) as session:
        errors.extend(_Checker(hub, session, docs).run())
        if errors:
            raise ApplyError(errors)
        report = _write(hub, session, docs)
        session.commit()
    return report
