"""The built-in mapping transforms: pure functions ``fn(value, *args) -> value``.

Arguments come from a pipeline step, ``"truncate:20"`` → ``truncate(value, "20")``,
or from a table step's ``args`` list. A transform raises ValueError with a
short message when it cannot handle a value. None passes through untouched
(except for ``default``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import wraps
from typing import Any

import phonenumbers

Transform = Callable[..., Any]


def _keeps_none(fn: Transform) -> Transform:
    @wraps(fn)
    def wrapper(value: Any, *args: Any) -> Any:
        return None if value is None else fn(value, *args)

    return wrapper


def _count(name: str, value: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} needs a whole number, got {value!r}") from None
    if number < 0:
        raise ValueError(f"{name} needs a number of at least 0")
    return number


@_keeps_none
def e164(value: Any, region: str | None = None) -> str:
    text = str(value).strip()
    if not text:
        return ""
    try:
        number = phonenumbers.parse(text, region.upper() if region else None)
    except phonenumbers.NumberParseException:
        raise ValueError(f"{text!r} is not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError(f"{text!r} is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@_keeps_none
def digits_only(value: Any) -> str:
    return re.sub(r"\D", "", str(value))


@_keeps_none
def upper(value: Any) -> str:
    return str(value).upper()


@_keeps_none
def lower(value: Any) -> str:
    return str(value).lower()


@_keeps_none
def title(value: Any) -> str:
    return str(value).title()


@_keeps_none
def trim(value: Any) -> str:
    return " ".join(str(value).split())


@_keeps_none
def date_format(value: Any, output: str = "%Y-%m-%d", source: str | None = None) -> str:
    """Reformat a date: ``date:%d/%m/%Y`` (input ISO, or ``date:OUT:IN`` to give the input format)."""
    if isinstance(value, (date, datetime)):
        moment = value
    else:
        text = str(value).strip()
        try:
            moment = datetime.strptime(text, source) if source else datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a date" + (f" in format {source}" if source else " (YYYY-MM-DD)")) from None
    return moment.strftime(output)


@_keeps_none
def first_name(value: Any) -> str:
    parts = str(value).split()
    return parts[0] if parts else ""


@_keeps_none
def last_name(value: Any) -> str:
    parts = str(value).split()
    return " ".join(parts[1:])


@_keeps_none
def split(value: Any, separator: str = " ", index: str = "0") -> str:
    parts = str(value).split(separator or None)
    position = int(index) if re.fullmatch(r"-?\d+", str(index)) else None
    if position is None:
        raise ValueError(f"split needs a whole number index, got {index!r}")
    try:
        return parts[position].strip()
    except IndexError:
        return ""


@_keeps_none
def join(value: Any, separator: str = " ") -> str:
    if isinstance(value, (list, tuple)):
        return separator.join(str(v) for v in value if v is not None)
    return str(value)


def default(value: Any, fallback: str = "") -> Any:
    return fallback if value is None or (isinstance(value, str) and not value.strip()) else value


@_keeps_none
def lookup(value: Any, *table: Any) -> Any:
    """Map a value through a table: ``lookup:M=Male:F=Female:*=Unknown`` or ``args = [{"M": "Male"}]``."""
    mapping: dict[str, Any] = {}
    for entry in table:
        if isinstance(entry, dict):
            mapping.update({str(k): v for k, v in entry.items()})
        elif isinstance(entry, str) and "=" in entry:
            key, _, result = entry.partition("=")
            mapping[key] = result
        else:
            raise ValueError(f"lookup entries look like key=value, got {entry!r}")
    key = str(value)
    if key in mapping:
        return mapping[key]
    folded = {k.casefold(): v for k, v in mapping.items()}
    if key.casefold() in folded:
        return folded[key.casefold()]
    if "*" in mapping:
        return mapping["*"]
    raise ValueError(f"{key!r} is not in the lookup table")


@_keeps_none
def truncate(value: Any, length: str = "255") -> str:
    return str(value)[: _count("truncate", length)]


@_keeps_none
def replace(value: Any, old: str = "", new: str = "") -> str:
    if not old:
        raise ValueError("replace needs the text to replace")
    return str(value).replace(old, new)


@_keeps_none
def prefix(value: Any, text: str = "") -> str:
    return f"{text}{value}"


@_keeps_none
def suffix(value: Any, text: str = "") -> str:
    return f"{value}{text}"


@_keeps_none
def number(value: Any) -> int | float:
    if isinstance(value, bool):
        raise ValueError("true/false is not a number")
    try:
        parsed = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a number") from None
    if not parsed.is_finite():
        raise ValueError(f"{value!r} is not a finite number")
    return int(parsed) if parsed == parsed.to_integral_value() else float(parsed)


@_keeps_none
def string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@_keeps_none
def bool_yes_no(value: Any, yes: str = "Yes", no: str = "No") -> str:
    truthy = value if isinstance(value, bool) else str(value).strip().lower() in ("true", "1", "yes", "y", "on")
    return yes if truthy else no


BUILTIN_TRANSFORMS: dict[str, Transform] = {
    "e164": e164, "digits_only": digits_only, "upper": upper, "lower": lower, "title": title, "trim": trim,
    "date": date_format, "first_name": first_name, "last_name": last_name, "split": split, "join": join,
    "default": default, "lookup": lookup, "truncate": truncate, "replace": replace, "prefix": prefix,
    "suffix": suffix, "number": number, "string": string, "bool_yes_no": bool_yes_no,
}
