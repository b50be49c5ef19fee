"""A generic HTTP SMS gateway, for the many regional providers: parameters are templates."""

from __future__ import annotations

from typing import Annotated, Literal

import httpx
import msgspec

from hub.mapping.templates import TemplateError, render
from hub.plugins.contract import Outcome
from leadhub_sms.providers.base import (
    OutgoingSms,
    ProviderResult,
    SmsProvider,
    SmsSettings,
)


class HttpGatewayConfig(SmsSettings, tag="http"):
    url: Annotated[str, msgspec.Meta(pattern=r"^https?://")] = "https://sms.example/send"
    method: Literal["POST", "GET"] = "POST"
    format: Literal["form", "json"] = "form"
    params: Annotated[dict[str, str], msgspec.Meta(
        description="Parameter name → template; {{ to }}, {{ to_digits }}, {{ text }} and lead fields")] = \
        msgspec.field(default_factory=lambda: {"to": "{{ to }}", "text": "{{ text }}"})
    headers: dict[str, str] = {}
    success_contains: Annotated[str, msgspec.Meta(description="Text a successful answer contains")] = ""
    message_id_json_path: str = ""  # e.g. "id" or "data.id"


def _dig(document: object, path: str) -> object:
    for part in path.split("."):
        document = document.get(part) if isinstance(document, dict) else None
    return document


class HttpGateway(SmsProvider):
    name = "http"
    Config = HttpGatewayConfig

    def send(self, sms: OutgoingSms, http: httpx.Client) -> ProviderResult:
        config: HttpGatewayConfig = sms.config
        try:
            params = {name: render(template, sms.values) for name, template in config.params.items()}
            headers = {name: render(template, sms.values) for name, template in config.headers.items()}
        except TemplateError as exc:
            return ProviderResult(Outcome.REJECTED, f"gateway parameter template: {exc}")
        headers.setdefault("Idempotency-Key", sms.idempotency_key)
        if config.method == "GET":
            response = http.get(config.url, params=params, headers=headers, timeout=config.timeout_seconds)
        elif config.format == "json":
            response = http.post(config.url, json=params, headers=headers, timeout=config.timeout_seconds)
        else:
            response = http.post(config.url, data=params, headers=headers, timeout=config.timeout_seconds)
        error = ""
        if config.success_contains and config.success_contains.lower() not in response.text.lower():
            error = f"the answer does not contain {config.success_contains!r}: {response.text[:200]}"
        message_id = None
        if config.message_id_json_path:
            try:
                found = _dig(response.json(), config.message_id_json_path)
            except ValueError:
                found = None
            message_id = None if found is None else str(found)
        return self.from_http(sms, response, message_id=message_id, error=error)
