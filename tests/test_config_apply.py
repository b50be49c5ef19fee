"""`leadhub apply` and `leadhub dump`: all-or-nothing, idempotent, secrets sealed and masked."""

from __future__ import annotations

import copy
import json
import os
import tomllib
from pathlib import Path

import pytest
import yaml
from sqlmodel import Session, select

from hub.config.apply import ApplyError, apply_document, load_file
from hub.config.dump import dump_document, dump_text
from hub.models import Delivery, DeliverySource, Source
from hub.secrets import MASK

EXAMPLE = Path(__file__).resolve().parents[2] / "shared" / "examples" / "hub.toml"
DIRECTORY = {"transport": "directory", "config": {"path": "/tmp"}}


@pytest.fixture
def example() -> dict:
    if not EXAMPLE.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{EXAMPLE} is missing: CI must check out ../shared beside the repository")
        pytest.skip(f"{EXAMPLE} not found")
    return tomllib.loads(EXAMPLE.read_text())


def installed_only(hub, document: dict) -> dict:  # type: ignore[no-untyped-def]
    """The example with only the deliveries and exports whose plugins are installed here."""
    trimmed = copy.deepcopy(document)
    trimmed["deliveries"] = [d for d in trimmed["deliveries"] if d["channel"] in hub.registry.channels]
    trimmed["exports"] = [e for e in trimmed["exports"] if e["transport"] in hub.registry.transports]
    return trimmed


def test_the_example_is_accepted_or_refused_only_for_missing_plugins(hub, example):
    missing_channels = {d["channel"] for d in example["deliveries"]} - set(hub.registry.channels)
    missing_transports = {e["transport"] for e in example["exports"]} - set(hub.registry.transports)
    if not missing_channels and not missing_transports:
        assert apply_document(hub, example).counts["created"] > 0
        return
    with pytest.raises(ApplyError) as caught:
        apply_document(hub, example)
    for error in caught.value.errors:
        assert "no such channel" in error or "no such export transport" in error, error
    assert len(caught.value.errors) == len([d for d in example["deliveries"] if d["channel"] in missing_channels]) \
        + len([e for e in example["exports"] if e["transport"] in missing_transports])
    with Session(hub.engine) as session:
        assert session.exec(select(Source).where(Source.slug == "home-insurance-form")).first() is None


def test_applying_twice_changes_nothing(hub, example):
    document = installed_only(hub, example)
    first = apply_document(hub, document)
    assert first.counts["created"] == 1 + 1 + len(document["deliveries"]) + len(document["exports"])
    second = apply_document(hub, document)
    assert set(second.counts) == {"unchanged"}
    with Session(hub.engine) as session:
        crm = session.exec(select(Delivery).where(Delivery.slug == "acme-crm")).one()
        assert crm.config["auth"]["password"] == "env:ACME_CRM_PASSWORD"  # references stay references
        assert crm.filter == "postcode startswith 'SW'" and crm.max_attempts == 6
        assert [r["target"] for r in crm.mapping] == ["FirstName", "FullName", "Phone", "Campaign"]
        assert len(session.exec(select(DeliverySource).where(DeliverySource.delivery_id == crm.id)).all()) == 1


def test_literal_secrets_are_encrypted_at_rest_and_masked_in_dumps(hub, example):
    document = installed_only(hub, example)
    document["sources"][0]["api_key"] = "literal-source-key"
    document["deliveries"][0]["config"]["auth"]["password"] = "literal-password"
    apply_document(hub, document)
    with Session(hub.engine) as session:
        source = session.exec(select(Source).where(Source.slug == "home-insurance-form")).one()
        crm = session.exec(select(Delivery).where(Delivery.slug == "acme-crm")).one()
    assert source.api_key.startswith("enc:") and hub.open_secret(source.api_key) == "literal-source-key"
    assert crm.config["auth"]["password"].startswith("enc:")
    dumped = dump_text(dump_document(hub), "toml")
    assert "literal-password" not in dumped and "literal-source-key" not in dumped and MASK in dumped
    # Re-applying the dump keeps the stored secrets and changes nothing.
    again = apply_document(hub, tomllib.loads(dumped))
    assert set(again.counts) == {"unchanged"}
    assert hub.open_secret(session_value(hub)) == "literal-password"
    # Re-applying the same literal keeps the ciphertext (no churn); a new one replaces it.
    assert set(apply_document(hub, document).counts) == {"unchanged"}
    document["deliveries"][0]["config"]["auth"]["password"] = "rotated"
    assert apply_document(hub, document).counts["updated"] == 1
    assert hub.open_secret(session_value(hub)) == "rotated"


def session_value(hub) -> str:  # type: ignore[no-untyped-def]
    with Session(hub.engine) as session:
        return session.exec(select(Delivery).where(Delivery.slug == "acme-crm")).one().config["auth"]["password"]


def test_every_problem_is_listed_and_nothing_is_written(hub):
    bad = {
        "sources": [{"slug": "Bad Slug"}, {"slug": "s", "fields": [{"name": "x", "type": "colour"}],
                                           "dedupe_on": ["email"]}],
        "buyers": [{"slug": "b", "contact_email": "nope"}],
        "deliveries": [
            {"slug": "d1", "channel": "carrier-pigeon", "sources": ["s"]},
            {"slug": "d2", "channel": "http_post", "buyer": "ghost", "sources": ["nowhere"],
             "filter": "postcode startswith", "config": {"url": "ftp://x", "timeout_seconds": -1},
             "mapping": [{"target": "A"}, {"target": "B", "source": "x", "transforms": ["sparkle"]}]},
            {"slug": "d2", "channel": "http_post", "config": {"url": "http://x"}},
        ],
        "exports": [{"slug": "e", "transport": "directory", "schedule": "every day", "timezone": "Mars/Base",
                     "format": "pdf", "config": {}}],
        "extras": [],
    }
    with pytest.raises(ApplyError) as caught:
        apply_document(hub, bad)
    text = "\n".join(caught.value.errors)
    for expected in ["sources[0] (Bad Slug): slug", "fields[0].type", "dedupe_on", "contact_email",
                     "no such channel 'carrier-pigeon'", "no buyer 'ghost'", "no source 'nowhere'", "filter: at column",
                     "config.url", "config.timeout_seconds", "mapping[0]", "no transform 'sparkle'",
                     "'d2' appears twice", "schedule", "timezone", "format", "config.path", "extras: unknown section"]:
        assert expected in text, f"{expected!r} not reported in:\n{text}"
    with Session(hub.engine) as session:
        assert [s.slug for s in session.exec(select(Source))] == ["form"]  # the fixture's own source only


def test_yaml_and_json_files_and_syntax_errors(hub, tmp_path):
    document = {"buyers": [{"slug": "acme", "name": "Acme"}],
                "exports": [{"slug": "daily", "buyer": "acme", "sources": ["form"], "schedule": "0 9 * * *",
                             **DIRECTORY}]}
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(document))
    (tmp_path / "c.json").write_text(json.dumps(document))
    assert apply_document(hub, load_file(tmp_path / "c.yaml")).counts["created"] == 2
    assert set(apply_document(hub, load_file(tmp_path / "c.json")).counts) == {"unchanged"}
    (tmp_path / "broken.toml").write_text("[[sources]\nslug=")
    with pytest.raises(ApplyError, match="line 1"):
        load_file(tmp_path / "broken.toml")
    (tmp_path / "c.ini").write_text("")
    with pytest.raises(ApplyError, match=".toml"):
        load_file(tmp_path / "c.ini")


def test_dump_round_trips_in_every_format(hub, example):
    apply_document(hub, installed_only(hub, example))
    for fmt in ("toml", "yaml", "json"):
        text = dump_text(dump_document(hub), fmt)
        parsed = tomllib.loads(text) if fmt == "toml" else yaml.safe_load(text) if fmt == "yaml" else json.loads(text)
        assert set(apply_document(hub, parsed).counts) == {"unchanged"}, fmt


def test_removing_a_setting_resets_it(hub, example):
    document = installed_only(hub, example)
    apply_document(hub, document)
    del document["deliveries"][0]["filter"]
    assert apply_document(hub, document).counts["updated"] == 1
    with Session(hub.engine) as session:
        assert session.exec(select(Delivery.filter).where(Delivery.slug == "acme-crm")).one() == ""
