"""Export rows: a lead's stored ``fields`` in, its cells in column order out (pure functions).

The mapping is compiled once per run instead of going through the engine for
every lead. When nothing needs the whole lead (no filter, no template), the
stored JSON is decoded straight into just the fields the rules read, and a rule
that only copies a field is an index. Every cell is still exactly what
``preview(rules, lead).output.get(target)`` gives: templates and transforms run
through the same functions, and a rule that fails leaves its cell empty.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from hub.mapping.engine import Transforms, parse_step, preview, rule_input
from hub.mapping.rules import MappingRule

Step = tuple[Callable[..., Any] | None, list[Any]]


@dataclass(frozen=True)
class RowPlan:
    """How one stored lead becomes one row: ``cells(decode(raw))``; ``decode`` also feeds the filter."""

    decode: Callable[[Any], Any]
    cells: Callable[[Any], Sequence[Any]]


def decode_lead(raw: str | bytes | Mapping[str, Any]) -> Mapping[str, Any]:
    """The lead's fields as a dict, whether the driver handed over JSON text or had already decoded it."""
    return msgspec.json.decode(raw) if isinstance(raw, (str, bytes)) else raw


def plan_rows(rules: Sequence[MappingRule], columns: Sequence[str], transforms: Transforms, *,
              whole_lead: bool) -> RowPlan:
    """Compile a mapping; ``columns`` are the fields passed through when there are no rules.

    ``whole_lead``: something else (the filter) reads the decoded lead, so decode it whole, as a dict.
    """
    if not rules:
        if whole_lead or len(set(columns)) < len(columns):
            return RowPlan(decode_lead, lambda lead: [lead.get(c) for c in columns])
        return RowPlan(field_decoder(columns), _identity)
    targets = [rule.target for rule in rules]
    if len(set(targets)) < len(targets) or any("." in t for t in targets):
        # A repeated or dotted target can replace what an earlier rule wrote: only the engine gets that right.
        return RowPlan(decode_lead, lambda lead: [preview(rules, lead, transforms).output.get(t) for t in targets])
    if whole_lead or any(rule.source is None and rule.template is not None for rule in rules):
        lead_cells = [_lead_cell(rule, transforms) for rule in rules]
        return RowPlan(decode_lead, lambda lead: [cell(lead) for cell in lead_cells])
    sources = list(dict.fromkeys(rule.source for rule in rules if rule.source is not None))
    decode = field_decoder(sources)
    if all(rule.source is not None and not rule.transforms for rule in rules):
        picks = [sources.index(rule.source) for rule in rules]  # type: ignore[arg-type]
        if picks == list(range(len(sources))):
            return RowPlan(decode, _identity)
        return RowPlan(decode, lambda values: [values[i] for i in picks])
    value_cells = [_value_cell(rule, sources, transforms) for rule in rules]
    return RowPlan(decode, lambda values: [cell(values) for cell in value_cells])


def field_decoder(names: Sequence[str]) -> Callable[[Any], tuple[Any, ...]]:
    """Decode a lead's JSON into the values of ``names`` only (None where absent), skipping the rest."""
    names = list(names)
    # Positional attribute names with ``rename`` take any key, even "first name" or "a.b".
    struct = msgspec.defstruct("LeadFields", [(f"f{i}", Any, None) for i in range(len(names))],
                               rename={f"f{i}": name for i, name in enumerate(names)})
    decoder = msgspec.json.Decoder(struct)
    astuple = msgspec.structs.astuple

    def decode(raw: Any) -> tuple[Any, ...]:
        if isinstance(raw, (str, bytes)):
            return astuple(decoder.decode(raw))
        return tuple(raw.get(name) for name in names)  # a driver that decodes JSON itself

    return decode


def _identity(values: Sequence[Any]) -> Sequence[Any]:
    return values


def _steps(rule: MappingRule, transforms: Transforms) -> list[Step]:
    # Parsed once per run; a missing transform (None) fails the cell as the engine would.
    steps: list[Step] = []
    for step in rule.transforms:
        name, args = parse_step(step)
        steps.append((transforms.get(name), args))
    return steps


def _transformed(value: Any, steps: list[Step]) -> Any:
    for fn, args in steps:
        if fn is None:
            return None
        value = fn(value, *args)
    return value


def _lead_cell(rule: MappingRule, transforms: Transforms) -> Callable[[Mapping[str, Any]], Any]:
    """One rule over the whole lead; any error leaves the cell empty, as ``preview`` leaves the target out."""
    steps = _steps(rule, transforms)

    def cell(lead: Mapping[str, Any]) -> Any:
        try:
            return _transformed(rule_input(rule, lead), steps)
        except Exception:  # noqa: BLE001 - preview records any failure as an error for the target
            return None

    return cell


def _value_cell(rule: MappingRule, sources: list[str], transforms: Transforms) -> Callable[[Sequence[Any]], Any]:
    """One source or constant rule over the decoded values (no templates on this path)."""
    steps = _steps(rule, transforms)
    index = sources.index(rule.source) if rule.source is not None else None

    def cell(values: Sequence[Any]) -> Any:
        try:
            return _transformed(rule.value if index is None else values[index], steps)
        except Exception:  # noqa: BLE001 - as in _lead_cell
            return None

    return cell
