"""The shape of a field mapping: rows of target <- source field / constant / template."""

from __future__ import annotations

from typing import Any

import msgspec


class TransformStep(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """A transform with arguments that do not fit in ``"name:arg"`` (e.g. a lookup table)."""

    name: str
    args: list[Any] = []


class MappingRule(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """One output field. Exactly one of ``source``, ``value`` or ``template`` is set."""

    target: str
    source: str | None = None
    value: Any = None
    template: str | None = None
    transforms: list[str | TransformStep] = []
