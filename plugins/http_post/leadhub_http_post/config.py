"""The settings of an http_post delivery; the admin's form is generated from these structs."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

import msgspec

from hub.plugins.contract import Secret


class NoAuth(msgspec.Struct, tag_field="type", tag="none", forbid_unknown_fields=True, frozen=True):
    """No authentication."""


class BasicAuth(msgspec.Struct, tag_field="type", tag="basic", forbid_unknown_fields=True):
    """HTTP Basic authentication."""

    username: str
    password: Annotated[str, Secret]


class BearerAuth(msgspec.Struct, tag_field="type", tag="bearer", forbid_unknown_fields=True):
    """A fixed bearer token in the Authorization header."""

    token: Annotated[str, Secret]


class ApiKeyAuth(msgspec.Struct, tag_field="type", tag="api_key", forbid_unknown_fields=True):
    """An API key in a header or a query parameter."""

    value: Annotated[str, Secret]
    name: str = "X-API-Key"
    in_: Literal["header", "query"] = msgspec.field(default="header", name="in")


class TokenAuth(msgspec.Struct, tag_field="type", tag="token", forbid_unknown_fields=True):
    """Two-step: fetch a token from ``token_url`` (cached until it expires), then send it with each lead."""

    token_url: str
    client_id: str = ""
    client_secret: Annotated[str, Secret] = ""
    method: Literal["POST", "GET"] = "POST"
    format: Literal["form", "json"] = "form"
    params: dict[str, str] = {}  # extra fields of the token call, e.g. grant_type
    token_json_path: str = "$.access_token"
    expires_json_path: str = "$.expires_in"
    default_ttl_seconds: Annotated[int, msgspec.Meta(ge=1, le=86400)] = 300
    header: str = "Authorization"
    prefix: str = "Bearer "


Auth = NoAuth | BasicAuth | BearerAuth | ApiKeyAuth | TokenAuth


class Rule(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Conditions on the buyer's answer; every condition given must hold."""

    status: list[int] = []
    body_contains: str | None = None
    body_regex: str | None = None
    json_path: str | None = None
    json_equals: Any = None  # with json_path: the value it must have (else: must exist and be truthy)
    xpath: str | None = None
    xpath_equals: str | None = None

    def __post_init__(self) -> None:
        if self.json_equals is not None and self.json_path is None:
            raise ValueError("json_equals needs json_path")
        if self.xpath_equals is not None and self.xpath is None:
            raise ValueError("xpath_equals needs xpath")
        check_locators(self.json_path, self.body_regex, self.xpath)


class Extract(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Where to find a value in the buyer's answer: one of json_path, regex (first group) or xpath."""

    json_path: str | None = None
    regex: str | None = None
    xpath: str | None = None

    def __post_init__(self) -> None:
        check_locators(self.json_path, self.regex, self.xpath)


def check_locators(json_path: str | None, regex: str | None, xpath: str | None) -> None:
    """Refuse, when the delivery is saved, what would only fail when a buyer answers."""
    if json_path is not None and not json_path.startswith("$"):
        raise ValueError(f"a JSON path starts with $ (like $.id), not {json_path!r}")
    if regex is not None:
        try:
            re.compile(regex)
        except re.error as exc:
            raise ValueError(f"invalid regular expression {regex!r}: {exc}") from None
    if xpath is not None and not xpath.strip():
        raise ValueError("an XPath cannot be empty")


class HttpPostConfig(msgspec.Struct, forbid_unknown_fields=True):
    """Send each lead to a third-party API."""

    url: Annotated[str, msgspec.Meta(title="URL", description="Where to send the lead", pattern=r"^https?://")]
    method: Literal["POST", "GET", "PUT"] = "POST"
    format: Annotated[Literal["json", "form", "xml", "query"],
                      msgspec.Meta(description="How the mapped fields are sent (GET always uses the query)")] = "json"
    headers: Annotated[dict[str, str], msgspec.Meta(description="Extra headers; values may use {{ field }}")] = {}
    auth: Auth = NoAuth()
    timeout_seconds: Annotated[float, msgspec.Meta(gt=0, le=120)] = 10.0
    accept: Annotated[Rule | None, msgspec.Meta(description="When the buyer took the lead (default: any 2xx)")] = None
    reject: Annotated[Rule | None, msgspec.Meta(description="When the buyer declined it (checked first)")] = None
    remote_id: Annotated[Extract | None, msgspec.Meta(description="The buyer's id for the lead")] = None
    reject_reason: Extract | None = None
    xml_root: str = "lead"
