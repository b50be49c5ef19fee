"""Twilio's Programmable Messaging REST API (POST .../Accounts/{sid}/Messages.json)."""

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

# Twilio error codes that a later try can fix.
TRANSIENT_CODES = {20429, 30001, 30022}


class TwilioConfig(SmsSettings, tag="twilio"):
    account_sid: Annotated[str, Secret] = ""
    auth_token: Annotated[str, Secret] = ""
    from_number: str = ""
    messaging_service_sid: str = ""
    api_base_url: str = "https://api.twilio.com"

    def __post_init__(self) -> None:
        if not self.account_sid or not self.auth_token:
            raise ValueError("account_sid and auth_token are required for Twilio")
        if not self.from_number and not self.messaging_service_sid:
            raise ValueError("set from_number (or messaging_service_sid) for Twilio")


class Twilio(SmsProvider):
    name = "twilio"
    Config = TwilioConfig

    def send(self, sms: OutgoingSms, http: httpx.Client) -> ProviderResult:
        config: TwilioConfig = sms.config
        url = f"{config.api_base_url.rstrip('/')}/2010-04-01/Accounts/{config.account_sid}/Messages.json"
        form = {"To": sms.to, "Body": sms.text}
        if config.messaging_service_sid:
            form["MessagingServiceSid"] = config.messaging_service_sid
        else:
            form["From"] = config.from_number
        response = http.post(url, data=form, auth=(config.account_sid, config.auth_token),
                             timeout=config.timeout_seconds)
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        if response.status_code in (200, 201) and answer.get("sid"):
            return self.from_http(sms, response, message_id=answer["sid"])
        code = answer.get("code")
        error = f"error {code}: {answer.get('message', '')}" if code else ""
        result = self.from_http(sms, response, error=error or response.text[:200])
        if code in TRANSIENT_CODES and result.outcome == Outcome.REJECTED:
            return ProviderResult(Outcome.FAILED, result.message, request=result.request, response=result.response)
        return result
