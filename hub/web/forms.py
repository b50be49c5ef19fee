"""Plugin settings forms generated from a Config's JSON Schema, and form posts read back (pure).

Nobody writes HTML per plugin: strings, numbers, booleans, enums (selects),
lists (one per line), string maps (``name: value`` per line), nested objects
(fieldsets) and tagged unions (a kind picker with one fieldset per kind) all
come from the schema. Secrets (``writeOnly``) are password inputs that are
never filled back in; leaving one empty keeps the stored value.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from hub.secrets import MASK


@dataclass
class FormField:
    name: str  # the input's name, e.g. "config.auth@basic.username"
    path: str  # the setting's dotted path, e.g. "auth.username" (errors are keyed by it)
    label: str
    kind: str  # text, password, textarea, number, integer, checkbox, select, lines, pairs, json, group, union
    required: bool = False
    value: Any = None
    choices: list[str] = field(default_factory=list)
    description: str = ""
    error: str = ""
    children: list[FormField] = field(default_factory=list)  # a group's fields
    variants: dict[str, list[FormField]] = field(default_factory=dict)  # a union's fields per kind
    selected: str = ""  # a union's chosen kind


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref", "")
    return schema.get("$defs", {}).get(ref.removeprefix("#/$defs/"), {}) if ref else node


def _label(name: str) -> str:
    return name.replace("_", " ").strip().capitalize()


def _unwrap_optional(schema: dict[str, Any], node: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """(the non-null alternative, whether null was allowed)."""
    options = node.get("anyOf")
    if options and not node.get("discriminator"):
        non_null = [o for o in options if o.get("type") != "null"]
        if len(non_null) == 1:
            return _resolve(schema, non_null[0]), True
    return _resolve(schema, node), False


def _union(schema: dict[str, Any], node: dict[str, Any]) -> tuple[str, dict[str, dict[str, Any]]] | None:
    """(tag field, {tag: struct schema}) for a tagged union node."""
    discriminator = node.get("discriminator")
    if not discriminator:
        return None
    mapping = discriminator.get("mapping", {})
    return discriminator["propertyName"], {tag: _resolve(schema, {"$ref": ref}) for tag, ref in mapping.items()}


def _kind(node: dict[str, Any]) -> str:
    if node.get("writeOnly"):
        return "password"
    if "enum" in node:
        return "select"
    kind = node.get("type")
    if kind == "boolean":
        return "checkbox"
    if kind in ("integer", "number"):
        return kind
    if kind == "array":
        return "lines"
    if kind == "object" and "properties" not in node:
        return "pairs"
    if kind == "string":
        return "textarea" if node.get("x-widget") == "textarea" else "text"
    if "properties" in node:
        return "group"
    return "json"  # Any, or a mix of types


def build_form(schema: dict[str, Any], values: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
               prefix: str = "config") -> list[FormField]:
    """The fields of a settings form, filled with ``values`` and ``errors`` (keyed by dotted path)."""
    root = _resolve(schema, schema)
    if _union(schema, root):
        return [_field(schema, root, "", prefix, values or {}, errors or {}, required=True, label="Kind")]
    return _fields(schema, root, "", prefix, values or {}, errors or {})


def _fields(schema: dict[str, Any], node: dict[str, Any], path: str, name: str, values: dict[str, Any],
            errors: dict[str, str], skip: str = "") -> list[FormField]:
    required = set(node.get("required", []))
    out = []
    for prop, sub in node.get("properties", {}).items():
        if prop == skip:
            continue
        sub_path = f"{path}.{prop}" if path else prop
        out.append(_field(schema, sub, sub_path, f"{name}.{prop}", values.get(prop) if isinstance(values, dict) else None,
                          errors, required=prop in required, label=sub.get("title") or _label(prop)))
    return out


def _field(schema: dict[str, Any], raw: dict[str, Any], path: str, name: str, value: Any, errors: dict[str, str],
           required: bool, label: str) -> FormField:
    node, nullable = _unwrap_optional(schema, raw)
    description = raw.get("description") or node.get("description", "")
    union = _union(schema, node)
    error = errors.get(path, "") if path else ""
    if union:
        tag_field, variants = union
        current = value if isinstance(value, dict) else {}
        selected = str(current.get(tag_field) or next(iter(variants)))
        built = {tag: _fields(schema, sub, path, f"{name}@{tag}", current if tag == selected else {}, errors,
                              skip=tag_field) for tag, sub in variants.items()}
        choices = ([""] if nullable else []) + list(variants)
        return FormField(name=name, path=path, label=label, kind="union", required=required and not nullable,
                         choices=choices, selected=selected if value is not None or not nullable else "",
                         variants=built, description=description, error=error)
    kind = _kind(node)
    if kind == "group":
        return FormField(name=name, path=path, label=label, kind="group", description=description, error=error,
                         required=required and not nullable, value=value,
                         children=_fields(schema, node, path, name, value if isinstance(value, dict) else {}, errors))
    shown: Any = value if value is not None else node.get("default", raw.get("default"))
    if kind == "password":
        shown = ""  # never sent back to the browser
    elif kind == "lines":
        shown = "\n".join(str(v) for v in shown or [])
    elif kind == "pairs":
        shown = "\n".join(f"{k}: {v}" for k, v in (shown or {}).items())
    elif kind == "json" and shown is not None and not isinstance(shown, str):
        shown = json.dumps(shown)
    choices = [str(c) for c in node.get("enum", [])]
    if kind == "select" and nullable:
        choices = ["", *choices]
    return FormField(name=name, path=path, label=label, kind=kind, required=required and not nullable,
                     value=shown, choices=choices, description=description, error=error)


def read_form(schema: dict[str, Any], form: dict[str, Any], prefix: str = "config") -> dict[str, Any]:
    """The settings dict a form post describes (types converted; problems are left for validation)."""
    root = _resolve(schema, schema)
    if _union(schema, root):
        return _read_value(schema, root, prefix, form) or {}
    return _read_object(schema, root, prefix, form)


def _read_object(schema: dict[str, Any], node: dict[str, Any], name: str, form: dict[str, Any],
                 skip: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for prop, sub in node.get("properties", {}).items():
        if prop == skip:
            continue
        value = _read_value(schema, sub, f"{name}.{prop}", form)
        if value is not None:
            out[prop] = value
    return out


def _read_value(schema: dict[str, Any], raw: dict[str, Any], name: str, form: dict[str, Any]) -> Any:
    node, nullable = _unwrap_optional(schema, raw)
    union = _union(schema, node)
    if union:
        tag_field, variants = union
        tag = str(form.get(name, "") or "")
        if tag not in variants:
            return None
        return {tag_field: tag, **_read_object(schema, variants[tag], f"{name}@{tag}", form, skip=tag_field)}
    kind = _kind(node)
    if kind == "group":
        inner = _read_object(schema, node, name, form)
        return inner or None
    if kind == "checkbox":
        return name in form and str(form[name]).lower() in ("on", "true", "1", "yes")
    text = form.get(name)
    if text is None:
        return None
    text = str(text)
    if kind == "password":
        return text if text else MASK  # empty: keep what is stored
    if text.strip() == "" and kind != "textarea" and kind != "text":
        return None
    if kind in ("integer", "number"):
        try:
            return int(text) if kind == "integer" else float(text)
        except ValueError:
            return text  # validation names the setting and the problem
    if kind == "lines":
        items = [line.strip() for line in text.splitlines() if line.strip()]
        item_type = _resolve(schema, node.get("items", {})).get("type")
        if item_type == "integer":
            return [int(i) if i.lstrip("-").isdigit() else i for i in items]
        return items
    if kind == "pairs":
        pairs = {}
        for line in text.splitlines():
            key, sep, value = line.partition(":")
            if sep and key.strip():
                pairs[key.strip()] = value.strip()
        return pairs
    if kind == "json":
        try:
            return json.loads(text)
        except ValueError:
            return text
    if text == "" and (nullable or "default" in node or "default" in raw):
        return None  # left empty: the default applies
    return text
