"""The field mapping engine: lead fields in, the buyer's fields out (pure functions).

Each rule fills one target from a lead field (``source``), a constant
(``value``) or a sandboxed Jinja template (``template``), then runs the value
through its ``transforms`` in order. An empty mapping passes the lead through.
A dotted target (``customer.name``) builds nested objects.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import msgspec

from hub.mapping.rules import MappingRule, TransformStep
from hub.mapping.templates import TemplateError, check_template, render

Transforms = Mapping[str, Callable[..., Any]]


class MappingError(ValueError):
    """Targets that could not be filled, each with the reason."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{target}: {why}" for target, why in errors.items()))


class Preview(msgspec.Struct):
    output: dict[str, Any]
    errors: dict[str, str]


def parse_step(step: str | TransformStep) -> tuple[str, list[Any]]:
    """``"date:%d/%m/%Y"`` → ("date", ["%d/%m/%Y"]); write ``\\:`` for a colon inside an argument."""
    if isinstance(step, TransformStep):
        return step.name, list(step.args)
    parts = [p.replace("\\:", ":") for p in re.split(r"(?<!\\):", step)]
    return parts[0].strip(), parts[1:]


def parse_rules(raw: Iterable[MappingRule | Mapping[str, Any]]) -> list[MappingRule]:
    return [r if isinstance(r, MappingRule) else msgspec.convert(r, MappingRule) for r in raw]


def _set(output: dict[str, Any], target: str, value: Any) -> None:
    *parents, leaf = target.split(".")
    node = output
    for name in parents:
        child = node.get(name)
        if not isinstance(child, dict):
            child = node[name] = {}
        node = child
    node[leaf] = value


def rule_input(rule: MappingRule, lead: Mapping[str, Any]) -> Any:
    """What a rule starts from, before its transforms: the source field, the rendered template or the value."""
    if rule.source is not None:
        return lead.get(rule.source)
    if rule.template is not None:
        return render(rule.template, lead)
    return rule.value


def _value(rule: MappingRule, lead: Mapping[str, Any], transforms: Transforms) -> Any:
    value = rule_input(rule, lead)
    for step in rule.transforms:
        name, args = parse_step(step)
        fn = transforms.get(name)
        if fn is None:
            raise ValueError(f"no transform '{name}'")
        try:
            value = fn(value, *args)
        except (ValueError, TypeError, ArithmeticError, LookupError) as exc:
            raise ValueError(f"{name}: {exc}") from None
    return value


def preview(rules: Sequence[MappingRule], lead: Mapping[str, Any], transforms: Transforms) -> Preview:
    """Map a lead, collecting a problem per target instead of stopping; never raises."""
    if not rules:
        return Preview(output=dict(lead), errors={})
    output: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for rule in rules:
        try:
            _set(output, rule.target, _value(rule, lead, transforms))
        except (ValueError, TemplateError) as exc:
            errors[rule.target] = str(exc)
        except Exception as exc:  # noqa: BLE001 - a plugin transform's bug is reported, not raised
            errors[rule.target] = f"{type(exc).__name__}: {exc}"
    return Preview(output=output, errors=errors)


def apply_mapping(rules: Sequence[MappingRule], lead: Mapping[str, Any], transforms: Transforms) -> dict[str, Any]:
    """Map a lead; raises MappingError naming every target that failed."""
    result = preview(rules, lead, transforms)
    if result.errors:
        raise MappingError(result.errors)
    return result.output


def validate_rules(raw: Any, transforms: Transforms) -> tuple[list[MappingRule], dict[str, str]]:
    """Check a mapping from a config file or form: (rules, {"mapping[i].key": problem})."""
    if raw is None:
        return [], {}
    if not isinstance(raw, list):
        return [], {"mapping": "must be a list of rules"}
    rules: list[MappingRule] = []
    errors: dict[str, str] = {}
    seen: set[str] = set()
    for index, item in enumerate(raw):
        where = f"mapping[{index}]"
        try:
            rule = msgspec.convert(item, MappingRule)
        except msgspec.ValidationError as exc:
            errors[where] = str(exc).replace("`", "").replace("$.", "")
            continue
        kinds = [k for k in ("source", "value", "template") if getattr(rule, k) is not None]
        if not rule.target.strip():
            errors[f"{where}.target"] = "is required"
        elif rule.target in seen:
            errors[f"{where}.target"] = f"'{rule.target}' is mapped twice"
        seen.add(rule.target)
        if len(kinds) != 1:
            errors[where] = "set exactly one of source, value or template" + (
                f" (found {', '.join(kinds)})" if kinds else "")
        if rule.template is not None and (problem := check_template(rule.template)):
            errors[f"{where}.template"] = problem
        for position, step in enumerate(rule.transforms):
            name, _ = parse_step(step)
            if name not in transforms:
                errors[f"{where}.transforms[{position}]"] = (
                    f"no transform '{name}'; available: {', '.join(sorted(transforms))}")
        rules.append(rule)
    return rules, errors
