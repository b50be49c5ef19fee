"""Vonage's (Nexmo's) SMS API (POST /sms/json): per-message status codes, "0" means sent."""

from __future__ import annotations

from typing import Annotated

import httpx

from hub.plugins.contract import Outcome, Secret
from leadhub_sms.providers.base import (
    OutgoingSms,
    ProviderResult,
    SmsProvider,
    SmsSettings,
)

# Status codes documented as worth another try: throttled, internal error, quota (once topped up).
TRANSIENT_STATUS = {"1", "5", "9"}


class VonageConfig(SmsSettings, tag="vonage"):
    api_key: Annotated[str, Secret] = ""
    api_secret: Annotated[str, Secret] = ""
    from_number: str = ""
    api_base_url: str = "https://rest.nexmo.com"

    def __post_init__(self) -> None:
        if not self.api_key or not self.api_secret:
            raise ValueError("api_key and api_secret are required for Vonage")
        if not self.from_number:
            raise ValueError("from_number (a number or an alphanumeric sender id) is required for Vonage")


class Vonage(SmsProvider):
    name = "vonage"
    Config = VonageConfig

    def send(self, sms: OutgoingSms, http: httpx.Client) -> ProviderResult:
        config: VonageConfig = sms.config
        form = {"api_key": config.api_key, "api_secret": config.api_secret, "from": config.from_number.lstrip("+"),
                "to": sms.to.lstrip("+"), "text": sms.text, "client-ref": sms.idempotency_key[:40]}
        if sms.encoding == "UCS-2":
            form["type"] = "unicode"
        response = http.post(f"{config.api_base_url.rstrip('/')}/sms/json", data=form, timeout=config.timeout_seconds)
        if response.status_code != 200:
            return self.from_http(sms, response)
        sent, got = self.exchange_of(response)
        try:
            parts = response.json().get("messages") or []
        except (ValueError, AttributeError):
            parts = []
        failures = [p for p in parts if str(p.get("status")) != "0"]
        if parts and not failures:
            return ProviderResult(Outcome.ACCEPTED, message_id=str(parts[0].get("message-id")), request=sent,
                                  response=got)
        if not parts:
            return ProviderResult(Outcome.FAILED, "Vonage answered without message statuses", request=sent, response=got)
        first = failures[0]
        status = str(first.get("status"))
        outcome = Outcome.FAILED if status in TRANSIENT_STATUS else Outcome.REJECTED
        return ProviderResult(outcome, f"Vonage status {status}: {first.get('error-text', '')}", request=sent,
                              response=got)
