"""What an SMS provider is: a Config (the shared settings plus its own) and one ``send`` method.

Adding a provider takes a few lines::

    class AcmeConfig(SmsSettings, tag="acme"):
        api_key: Annotated[str, Secret]
        api_base_url: str = "https://api.acme-sms.example"

    class Acme(SmsProvider):
        name, Config = "acme", AcmeConfig

        def send(self, sms, http):
            response = http.post(f"{sms.config.api_base_url}/send", json={"to": sms.to, "text": sms.text},
                                 headers={"Authorization": f"Key {sms.config.api_key}"}, timeout=sms.config.timeout_seconds)
            return self.from_http(sms, response, message_id=response.json().get("id"))

and an entry point ``acme = "my_package:Acme"`` in the group ``leadhub_sms_providers``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Annotated, Any, ClassVar, Literal

import httpx
import msgspec

from hub.plugins.contract import Exchange, Outcome

EXCERPT = 2048
Template = msgspec.Meta(extra_json_schema={"x-widget": "template"})


class SmsSettings(msgspec.Struct, tag_field="provider", forbid_unknown_fields=True):
    """An SMS per lead. The body is a template: {{ first_name }} and friends."""

    body: Annotated[str, Template, msgspec.Meta(min_length=1)]
    to: Annotated[list[str], msgspec.Meta(description="Fixed recipients, e.g. +447700900123")] = []
    to_lead_phone: Annotated[bool, msgspec.Meta(description="Also text the lead's own phone number")] = False
    lead_phone_field: str = "phone"
    default_country: Annotated[str, msgspec.Meta(description="For numbers written without +, e.g. GB")] = ""
    max_segments: Annotated[int, msgspec.Meta(ge=1, le=10)] = 1
    overflow: Annotated[Literal["truncate", "reject"],
                        msgspec.Meta(description="A longer message is cut with an ellipsis, or not sent")] = "truncate"
    merge_field_budget: Annotated[int, msgspec.Meta(ge=0, le=160, description="Characters assumed per merge "
                                                    "field when checking the template's worst case")] = 20
    timeout_seconds: Annotated[float, msgspec.Meta(gt=0, le=60)] = 10.0


@dataclass(frozen=True)
class OutgoingSms:
    config: Any  # the provider's Config
    to: str  # E.164
    text: str
    encoding: str  # GSM-7 | UCS-2
    idempotency_key: str
    values: dict[str, Any]  # the lead and mapped fields, plus to, text, sender: for templated parameters


@dataclass(frozen=True)
class ProviderResult:
    outcome: Outcome
    message: str = ""
    message_id: str | None = None
    retry_after: float | None = None
    request: Exchange | None = None
    response: Exchange | None = None


def retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        try:
            return max((parsedate_to_datetime(value) - datetime.now(timezone.utc)).total_seconds(), 0.0)
        except (TypeError, ValueError):
            return None


class SmsProvider:
    name: ClassVar[str]
    Config: ClassVar[type[SmsSettings]]

    def send(self, sms: OutgoingSms, http: httpx.Client) -> ProviderResult:
        raise NotImplementedError

    @staticmethod
    def exchange_of(response: httpx.Response) -> tuple[Exchange, Exchange]:
        request = response.request
        sent = Exchange(summary=f"{request.method} {request.url}", headers=dict(request.headers),
                        body=request.content[:EXCERPT].decode("utf-8", errors="replace"))
        got = Exchange(summary=f"{response.status_code} {response.reason_phrase}", status=response.status_code,
                       headers=dict(response.headers), body=response.text[:EXCERPT])
        return sent, got

    def from_http(self, sms: OutgoingSms, response: httpx.Response, message_id: str | None = None,
                  error: str = "") -> ProviderResult:
        """The usual reading of an HTTP answer: 2xx sent; 429 and 5xx retry; other 4xx refused."""
        sent, got = self.exchange_of(response)
        status = response.status_code
        if 200 <= status < 300 and not error:
            return ProviderResult(Outcome.ACCEPTED, message_id=message_id, request=sent, response=got)
        reason = error or response.text[:200]
        if status == 429 or status >= 500:
            return ProviderResult(Outcome.FAILED, f"{self.name} answered {status}: {reason}", request=sent,
                                  response=got, retry_after=retry_after(response))
        return ProviderResult(Outcome.REJECTED, f"{self.name} refused the message ({status}): {reason}",
                              request=sent, response=got)
