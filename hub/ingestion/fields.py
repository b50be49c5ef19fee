"""A source's field spec and the pure validation of a lead against it."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

import msgspec
import phonenumbers

from hub.ingestion.emails import EmailNotValidError, normalized_email

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


FIELD_TYPES: tuple[str, ...] = ("string", "integer", "decimal", "boolean", "date", "email", "phone", "enum")
NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
MAX_UNKNOWN_FIELDS = 200
MAX_UNKNOWN_TEXT = 10_000
MAX_NESTING = 8  # lists/objects inside an unknown field; leads are flat records
TRUE_WORDS = {"true", "1", "yes", "y", "on"}
FALSE_WORDS = {"false", "0", "no", "n", "off"}


class FieldProblem(ValueError):
    """Why one value does not fit its field, as a phrase: "must be a whole number"."""


def _text(value: Any, kind: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        raise FieldProblem(f"must be {kind}")
    return str(value).strip()


def _integer(value: Any, spec: FieldSpec) -> int:
    if isinstance(value, bool):
        raise FieldProblem("must be a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        return int(value)
    text = _text(value, "a whole number")
    if not re.fullmatch(r"[+-]?[0-9]{1,18}", text):
        raise FieldProblem("must be a whole number")
    return int(text)


def _decimal(value: Any, spec: FieldSpec) -> str:
    if isinstance(value, bool):
        raise FieldProblem("must be a number")
    try:
        number = Decimal(_text(value, "a number"))
    except InvalidOperation:
        raise FieldProblem("must be a number") from None
    if not number.is_finite():
        raise FieldProblem("must be a finite number")
    if abs(number.adjusted()) > 30:  # 1e999999 is a valid Decimal but no lead's price or score
        raise FieldProblem("must be a number of at most 30 digits either side of the point")
    return format(number, "f")


def _boolean(value: Any, spec: FieldSpec) -> bool:
    if isinstance(value, bool):
        return value
    word = _text(value, "true or false").lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise FieldProblem("must be true or false (also accepted: yes/no, 1/0, on/off)")


def _date(value: Any, spec: FieldSpec) -> str:
    text = _text(value, "a date")
    # fromisoformat alone would also take "20260102" and week dates; only YYYY-MM-DD[Thh:mm...] is asked for.
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        parse = date.fromisoformat
    elif re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9:.,+\-Z]+", text):
        parse = datetime.fromisoformat
    else:
        raise FieldProblem("must be a date as YYYY-MM-DD")
    try:
        parsed = parse(text)
    except ValueError:
        raise FieldProblem("must be a date as YYYY-MM-DD") from None
    return (parsed.date() if isinstance(parsed, datetime) else parsed).isoformat()


def _email(value: Any, spec: FieldSpec) -> str:
    text = _text(value, "an email address")
    try:
        return normalized_email(text)
    except EmailNotValidError as exc:
        raise FieldProblem(f"is not a valid email address: {exc}") from None


def _phone(value: Any, spec: FieldSpec) -> str:
    text = _text(value, "a phone number")
    try:
        number = phonenumbers.parse(text, spec.country)
    except phonenumbers.NumberParseException:
        where = f" (or a national number in {spec.country})" if spec.country else ""
        raise FieldProblem(f"is not a phone number; use international format like +447700900123{where}") from None
    if not phonenumbers.is_valid_number(number):
        raise FieldProblem("is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _enum(value: Any, spec: FieldSpec) -> str:
    text = _text(value, "one of the listed values")
    for choice in spec.choices:
        if text.casefold() == choice.casefold():
            return choice
    raise FieldProblem(f"must be one of: {', '.join(spec.choices)}")


def _string(value: Any, spec: FieldSpec) -> str:
    return _text(value, "text")


_CONVERTERS = {"string": _string, "integer": _integer, "decimal": _decimal, "boolean": _boolean, "date": _date,
               "email": _email, "phone": _phone, "enum": _enum}


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def validate_lead(specs: list[FieldSpec], data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Clean a posted lead against its source's fields: (clean fields, {field: problem}).

    Every problem is reported, not only the first. Values may be JSON types or
    the strings of a form; they are converted to their field's type, and text
    is stripped. A blank optional field is left out of the clean fields (not
    stored as ""). Fields not in the spec are kept as sent (top-level text
    stripped), within the limits on their number, size and nesting. Never
    raises, whatever the input.
    """
    if not isinstance(data, Mapping):
        return {}, {"_lead": "must be an object of named fields"}
    clean: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for spec in specs:
        value = data.get(spec.name)
        if _blank(value):
            if spec.required:
                errors[spec.name] = "is required"
            continue
        problem, converted = _convert(spec, value)
        if problem is not None:
            errors[spec.name] = problem
        else:
            clean[spec.name] = converted
    known = {spec.name for spec in specs}
    unknown = [name for name in data if name not in known]
    for count, name in enumerate(unknown, start=1):
        if count > MAX_UNKNOWN_FIELDS:
            # One error (on the first field over the limit) rather than one per extra field keeps the answer small.
            errors[str(name)] = (f"is one field too many: {len(unknown)} fields are not in the source's spec "
                                 f"and at most {MAX_UNKNOWN_FIELDS} are accepted")
            break
        value = data[name]
        problem = _unknown_problem(value)
        if problem is not None:
            errors[str(name)] = problem
        else:
            clean[str(name)] = value.strip() if isinstance(value, str) else value
    return clean, errors


def _convert(spec: FieldSpec, value: Any) -> tuple[str | None, Any]:
    """(problem, None) or (None, the value as the field's type)."""
    try:
        converted = _CONVERTERS[spec.type](value, spec)
    except FieldProblem as exc:
        return str(exc), None
    except Exception:  # noqa: BLE001 - odd Unicode can trip a parser library; a bad lead is a 422, never a 500
        return f"could not be read as {spec.type}", None
    if spec.max_length is not None and isinstance(converted, str) and len(converted) > spec.max_length:
        return f"must be at most {spec.max_length} characters", None
    return None, converted


def _unknown_problem(value: Any) -> str | None:
    """What is wrong with a field not in the spec: text too long or nesting too deep, anywhere inside it.

    Iterative, so a hostile payload cannot exhaust the recursion limit.
    """
    stack = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str) and len(node) > MAX_UNKNOWN_TEXT:
            return f"must be at most {MAX_UNKNOWN_TEXT} characters" if depth == 0 else \
                f"must not hold text longer than {MAX_UNKNOWN_TEXT} characters"
        if isinstance(node, (list, tuple, dict)):
            if depth >= MAX_NESTING:
                return f"is nested more than {MAX_NESTING} levels deep"
            children = [*node.keys(), *node.values()] if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children)
    return None


def validate_specs(raw: Any) -> tuple[list[FieldSpec], dict[str, str]]:
    """Read a source's field list from a config file or form: (specs, {"fields[i].key": problem})."""
    if not isinstance(raw, list):
        return [], {"fields": "must be a list of fields"}
    specs: list[FieldSpec] = []
    errors: dict[str, str] = {}
    seen: set[str] = set()
    for index, item in enumerate(raw):
        where = f"fields[{index}]"
        if not isinstance(item, dict):
            errors[where] = "must be a table like { name = \"email\", type = \"email\" }"
            continue
        problems = _spec_problems(item)
        if problems:
            errors.update({f"{where}.{key}": message for key, message in problems.items()})
            continue
        try:
            spec = msgspec.convert(item, FieldSpec)
        except msgspec.ValidationError as exc:  # anything the checks above did not foresee
            errors[where] = str(exc)
            continue
        if spec.name in seen:
            errors[f"{where}.name"] = f"'{spec.name}' is listed twice"
        seen.add(spec.name)
        specs.append(spec)
    return specs, errors


def _spec_problems(item: dict[str, Any]) -> dict[str, str]:
    problems: dict[str, str] = {}
    allowed = {f.name for f in msgspec.structs.fields(FieldSpec)}
    for key in item:
        if key not in allowed:
            problems[str(key)] = f"unknown setting; allowed: {', '.join(sorted(allowed))}"
    name = item.get("name")
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        problems["name"] = "is required: letters, digits, _ . - (starting with a letter or _)"
    kind = item.get("type", "string")
    if not isinstance(kind, str) or kind not in FIELD_TYPES:
        problems["type"] = f"'{kind}' is not a field type; use one of: {', '.join(FIELD_TYPES)}"
    if "required" in item and not isinstance(item["required"], bool):
        problems["required"] = "must be true or false"
    max_length = item.get("max_length")
    if max_length is not None and (isinstance(max_length, bool) or not isinstance(max_length, int) or max_length < 1):
        problems["max_length"] = "must be a whole number of at least 1"
    country = item.get("country")
    if country is not None and (not isinstance(country, str) or country not in phonenumbers.SUPPORTED_REGIONS):
        problems["country"] = f"'{country}' is not a two-letter country code such as GB or US"
    choices = item.get("choices", [])
    if not isinstance(choices, list) or not all(isinstance(c, str) for c in choices):
        problems["choices"] = "must be a list of strings"
    elif kind == "enum" and not choices:
        problems["choices"] = "an enum field needs its list of choices"
    if "label" in item and not isinstance(item["label"], str):
        problems["label"] = "must be text"
    return problems


def dedupe_key(fields: Mapping[str, Any], on: Sequence[str]) -> str | None:
    """A fingerprint of the ``on`` fields (case and spacing ignored); None if there is nothing to compare."""
    if not on:
        return None
    values = ["" if _blank(fields.get(name)) else str(fields.get(name)).strip().casefold() for name in on]
    if not any(values):
        return None
    return hashlib.sha256("\x1f".join(values).encode()).hexdigest()
