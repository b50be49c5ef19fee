"""Plugin settings: decode with an error per field, and walk the secret fields of a Config."""

from __future__ import annotations

import functools
import re
import types
import typing
from collections.abc import Callable
from typing import Any

import msgspec
from msgspec import inspect as mi

from hub.secrets import MASK


class ConfigErrors(ValueError):
    """Every problem in a settings dict, keyed by the setting's dotted path."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


_PATH = re.compile(r" - at `\$(?P<path>[^`]*)`$")


def _humanize(exc: msgspec.ValidationError, prefix: str) -> tuple[str, str]:
    """Split msgspec's "Expected `int`, got `str` - at `$.a.b`" into ("a.b", "expected int, got str")."""
    text = str(exc)
    match = _PATH.search(text)
    path = prefix
    if match:
        text = text[: match.start()]
        tail = re.sub(r"\[(\d+)\]", r".\1", match.group("path")).lstrip(".")
        path = ".".join(p for p in (prefix, tail) if p)
    message = text.replace("`", "")
    return path or "config", message[:1].lower() + message[1:]


def decode_config(cls: type[msgspec.Struct], data: Any) -> msgspec.Struct:
    """Convert ``data`` into ``cls``, or raise ConfigErrors naming every bad setting."""
    try:
        return msgspec.convert(data, cls, strict=False)
    except msgspec.ValidationError as whole_error:
        if not isinstance(data, dict):
            raise ConfigErrors({"config": "settings must be a table of name = value"}) from None
        errors = _field_errors(cls, data)
        if not errors:  # a cross-field rule in __post_init__, or something we could not localise
            path, message = _humanize(whole_error, "")
            errors = {path: message}
        raise ConfigErrors(errors) from None


def union_members(config_type: Any) -> list[type[msgspec.Struct]]:
    """The Struct alternatives of a Config that is a tagged union (empty for a plain Struct)."""
    members = typing.get_args(config_type) if typing.get_origin(config_type) in (typing.Union, types.UnionType) else ()
    return [m for m in members if isinstance(m, type) and issubclass(m, msgspec.Struct)]


def is_config_type(config_type: Any) -> bool:
    """A Config is a msgspec.Struct, or a tagged union of them (e.g. one per SMS provider)."""
    if isinstance(config_type, type) and issubclass(config_type, msgspec.Struct):
        return True
    members = union_members(config_type)
    return bool(members) and all(m.__struct_config__.tag_field for m in members)


def _field_errors(cls: Any, data: dict[str, Any]) -> dict[str, str]:
    members = union_members(cls)
    if members:  # pick the alternative the tag names, then check its fields
        tag_field = members[0].__struct_config__.tag_field
        by_tag = {m.__struct_config__.tag: m for m in members}
        if data.get(tag_field) not in by_tag:
            return {tag_field: f"must be one of: {', '.join(map(str, by_tag))}"}
        cls = by_tag[data[tag_field]]
        data = {k: v for k, v in data.items() if k != tag_field}
    errors: dict[str, str] = {}
    fields = {f.encode_name: f for f in msgspec.structs.fields(cls)}
    for name, f in fields.items():
        if name not in data:
            if f.required:
                errors[name] = "is required"
            continue
        try:
            msgspec.convert(data[name], f.type, strict=False)
        except msgspec.ValidationError as exc:
            path, message = _humanize(exc, name)
            errors[path] = message
    if cls.__struct_config__.forbid_unknown_fields:
        for name in data:
            if name not in fields:
                errors[name] = f"unknown setting; known settings: {', '.join(fields)}"
    return errors


def config_schema(cls: type[msgspec.Struct]) -> dict[str, Any]:
    """The JSON Schema of a Config, with its own definition inlined at the top."""
    schema = msgspec.json.schema(cls)
    ref = schema.get("$ref", "")
    defs = schema.get("$defs", {})
    if ref.startswith("#/$defs/"):
        top = dict(defs[ref.removeprefix("#/$defs/")])
        top["$defs"] = defs
        return top
    return schema


SecretFn = Callable[[str, str], str]  # (dotted path, value) -> new value


def map_secrets(cls: type[msgspec.Struct], data: Any, fn: SecretFn) -> Any:
    """Return a copy of raw settings ``data`` with every secret leaf replaced by ``fn(path, value)``."""
    return _walk(_type_info(cls), data, fn, "")


@functools.lru_cache(maxsize=256)
def _type_info(cls: Any) -> mi.Type:
    """msgspec's type description, built once per Config (it costs milliseconds; deliveries need it per lead)."""
    return mi.type_info(cls)


def _is_secret(t: mi.Type) -> bool:
    return isinstance(t, mi.Metadata) and bool((t.extra_json_schema or {}).get("writeOnly"))


def _walk(t: mi.Type, value: Any, fn: SecretFn, path: str) -> Any:
    if _is_secret(t):
        return fn(path, value) if isinstance(value, str) else value
    if isinstance(t, mi.Metadata):
        return _walk(t.type, value, fn, path)
    if isinstance(t, mi.StructType) and isinstance(value, dict):
        out = dict(value)
        for f in t.fields:
            if f.encode_name in out:
                out[f.encode_name] = _walk(f.type, out[f.encode_name], fn, _join(path, f.encode_name))
        return out
    if isinstance(t, mi.UnionType):
        return _walk_union(t, value, fn, path)
    if isinstance(t, (mi.ListType, mi.TupleType, mi.VarTupleType, mi.SetType)) and isinstance(value, list):
        item = getattr(t, "item_type", None)
        return [_walk(item, v, fn, _join(path, str(i))) for i, v in enumerate(value)] if item else value
    if isinstance(t, mi.DictType) and isinstance(value, dict):
        return {k: _walk(t.value_type, v, fn, _join(path, str(k))) for k, v in value.items()}
    return value


def _walk_union(t: mi.UnionType, value: Any, fn: SecretFn, path: str) -> Any:
    if isinstance(value, dict):
        structs = [m for m in t.types if isinstance(m, mi.StructType)]
        for member in structs:
            if member.tag_field is None or value.get(member.tag_field) == member.tag:
                return _walk(member, value, fn, path)
        return value
    if isinstance(value, str) and any(_is_secret(m) for m in t.types):
        return fn(path, value)
    return value


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def secret_values(cls: type[msgspec.Struct], data: Any) -> list[str]:
    """Every secret leaf value in raw settings (used to build a Masker)."""
    found: list[str] = []
    map_secrets(cls, data, lambda _p, v: found.append(v) or v)
    return found


def mask_config(cls: type[msgspec.Struct], data: Any) -> Any:
    """Settings fit to show: secret literals become MASK; ``env:`` references stay readable."""
    return map_secrets(cls, data, lambda _p, v: v if v.startswith("env:") or v == "" else MASK)
