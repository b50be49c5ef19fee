"""Encoding the mapped lead as the buyer wants it: JSON, form, XML or query string (pure)."""

from __future__ import annotations

import re
from typing import Any
from xml.sax.saxutils import escape

import msgspec


def flat_text(value: Any) -> str:
    """A value as a form or query parameter."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return msgspec.json.encode(value).decode()
    return str(value)


def flat_params(payload: dict[str, Any]) -> list[tuple[str, str]]:
    return [(str(k), flat_text(v)) for k, v in payload.items()]


def xml_name(name: str) -> str:
    """An element name XML accepts: invalid characters become _, and it never starts with a digit."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]", "_", name) or "field"
    return f"_{cleaned}" if not re.match(r"[A-Za-z_]", cleaned) or cleaned.lower().startswith("xml") else cleaned


def _xml_value(name: str, value: Any) -> str:
    tag = xml_name(name)
    if isinstance(value, dict):
        return f"<{tag}>" + "".join(_xml_value(k, v) for k, v in value.items()) + f"</{tag}>"
    if isinstance(value, list):
        return "".join(_xml_value(name, item) for item in value)
    return f"<{tag}>{escape(flat_text(value))}</{tag}>"


def to_xml(payload: dict[str, Any], root: str) -> bytes:
    inner = "".join(_xml_value(k, v) for k, v in payload.items())
    return f'<?xml version="1.0" encoding="UTF-8"?><{xml_name(root)}>{inner}</{xml_name(root)}>'.encode()


def to_json(payload: dict[str, Any]) -> bytes:
    return msgspec.json.encode(payload)
