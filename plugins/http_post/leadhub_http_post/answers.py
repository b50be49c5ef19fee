"""Reading a buyer's answer: JSON paths, XPath, accept/reject rules and extracted values (pure)."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from leadhub_http_post.config import Extract, Rule

_PATH_STEP = re.compile(r"\.([A-Za-z_][\w-]*)|\[(\d+)\]|\['([^']*)'\]|\[\"([^\"]*)\"\]")
_MISSING = object()


def json_path(document: Any, path: str) -> Any:
    """The value at ``$.a.b[0]['c d']`` in a decoded JSON document, or ``_MISSING``.

    A deliberate subset of JSONPath: the root ``$``, child names and list indexes.
    """
    if not path.startswith("$"):
        raise ValueError(f"a JSON path starts with $, got {path!r}")
    position, node = 1, document
    while position < len(path):
        match = _PATH_STEP.match(path, position)
        if match is None:
            raise ValueError(f"cannot read JSON path {path!r} at character {position + 1}")
        name = match.group(1) or match.group(3) or match.group(4)
        if match.group(2) is not None:
            index = int(match.group(2))
            node = node[index] if isinstance(node, list) and index < len(node) else _MISSING
        else:
            node = node.get(name, _MISSING) if isinstance(node, dict) else _MISSING
        if node is _MISSING:
            return _MISSING
        position = match.end()
    return node


def xpath_text(root: ET.Element, path: str) -> str | None:
    """The text of the first element at ``path`` (ElementTree's XPath subset; ``/root/a`` and ``//a`` work)."""
    if path.startswith("//"):
        path = "." + path
    elif path.startswith("/"):
        steps = path.lstrip("/").split("/", 1)
        if steps[0] != root.tag:
            return None
        path = "./" + steps[1] if len(steps) > 1 else "."
    try:
        found = root.find(path)
    except SyntaxError:
        raise ValueError(f"cannot read XPath {path!r}") from None
    return None if found is None else (found.text or "").strip()


@dataclass
class BuyerAnswer:
    status: int
    text: str

    @cached_property
    def json(self) -> Any:
        try:
            return json.loads(self.text)
        except ValueError:
            return _MISSING

    @cached_property
    def xml(self) -> ET.Element | None:
        try:
            return ET.fromstring(self.text)  # noqa: S314 - the stdlib parser refuses external entities
        except ET.ParseError:
            return None

    def at_json(self, path: str) -> Any:
        return _MISSING if self.json is _MISSING else json_path(self.json, path)

    def at_xpath(self, path: str) -> str | None:
        return None if self.xml is None else xpath_text(self.xml, path)


def unmet(rule: Rule, answer: BuyerAnswer) -> list[str]:
    """The conditions of ``rule`` that ``answer`` does not meet (empty: the rule matches)."""
    problems = []
    if rule.status and answer.status not in rule.status:
        problems.append(f"status {answer.status} is not one of {rule.status}")
    if rule.body_contains is not None and rule.body_contains.lower() not in answer.text.lower():
        problems.append(f"the body does not contain {rule.body_contains!r}")
    if rule.body_regex is not None and not re.search(rule.body_regex, answer.text):
        problems.append(f"the body does not match /{rule.body_regex}/")
    if rule.json_path is not None:
        value = answer.at_json(rule.json_path)
        if rule.json_equals is not None:
            if value is _MISSING or str(value).lower() != str(rule.json_equals).lower():
                shown = "nothing" if value is _MISSING else repr(value)
                problems.append(f"{rule.json_path} is {shown}, not {rule.json_equals!r}")
        elif value is _MISSING or not value:
            problems.append(f"{rule.json_path} is missing or empty")
    if rule.xpath is not None:
        text = answer.at_xpath(rule.xpath)
        if rule.xpath_equals is not None:
            if text is None or text.lower() != rule.xpath_equals.lower():
                problems.append(f"{rule.xpath} is {text!r}, not {rule.xpath_equals!r}")
        elif not text:
            problems.append(f"{rule.xpath} is missing or empty")
    return problems


def is_set(rule: Rule | None) -> bool:
    return rule is not None and any(
        (rule.status, rule.body_contains is not None, rule.body_regex is not None, rule.json_path is not None,
         rule.xpath is not None))


def extract(where: Extract | None, answer: BuyerAnswer) -> str | None:
    """The value ``where`` points at, as text, or None."""
    if where is None:
        return None
    if where.json_path is not None:
        value = answer.at_json(where.json_path)
        return None if value is _MISSING or value is None else str(value)
    if where.regex is not None:
        match = re.search(where.regex, answer.text)
        return None if match is None else (match.group(1) if match.groups() else match.group(0))
    if where.xpath is not None:
        return answer.at_xpath(where.xpath) or None
    return None
