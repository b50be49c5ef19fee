"""The mapping builder's rows <-> mapping rules, and a sample lead for previews (pure)."""

from __future__ import annotations

from typing import Any

SAMPLES = {"string": "Sample", "integer": 42, "decimal": "19.99", "boolean": True, "date": "1990-04-01",
           "email": "sample@example.com", "phone": "+447911123456"}


def rows_from_rules(rules: list[dict[str, Any]]) -> list[dict[str, str]]:
    rows = []
    for rule in rules:
        kind = next((k for k in ("source", "value", "template") if rule.get(k) is not None), "source")
        steps = [s if isinstance(s, str) else s.get("name", "") for s in rule.get("transforms", [])]
        rows.append({"target": rule.get("target", ""), "kind": kind, "text": str(rule.get(kind, "")),
                     "transforms": ", ".join(steps)})
    return rows


def rules_from_form(targets: list[str], kinds: list[str], texts: list[str], transforms: list[str]) -> list[dict]:
    """Rows in page order; a row with neither target nor content is ignored."""
    rules = []
    for target, kind, text, steps in zip(targets, kinds, texts, transforms, strict=False):
        if not target.strip() and not text.strip():
            continue
        kind = kind if kind in ("source", "value", "template") else "source"
        # A template keeps its spacing; a field name or a constant does not need it.
        rule: dict[str, Any] = {"target": target.strip(), kind: text if kind == "template" else text.strip()}
        pipeline = [s.strip() for s in steps.split(",") if s.strip()]
        if pipeline:
            rule["transforms"] = pipeline
        rules.append(rule)
    return rules


def sample_lead(fields: list[dict[str, Any]]) -> dict[str, Any]:
    """A lead with a plausible value for every field of a source, for previews before any lead arrived."""
    lead = {}
    for spec in fields:
        kind = spec.get("type", "string")
        lead[spec["name"]] = (spec.get("choices") or ["A"])[0] if kind == "enum" else SAMPLES.get(kind, "Sample")
    return lead
