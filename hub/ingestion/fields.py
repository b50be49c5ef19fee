"""A source's field spec and the pure validation of a lead against it."""

from __future__ import annotations

from typing import Literal

import msgspec

FieldType = Literal["string", "integer", "decimal", "boolean", "date", "email", "phone", "enum"]


class FieldSpec(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """One field a source posts."""

    name: str
    type: FieldType = "string"
    required: bool = False
    max_length: int | None = None
    country: str | None = None  # default region for phone numbers, e.g. "GB"
    choices: list[str] = []  # allowed values of an enum
    label: str = ""
