"""The SMS channel: render the body, fit it to the segment limit, text every recipient."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Union

import httpx

from hub.mapping.templates import TemplateError
from hub.plugins.contract import (
    Channel,
    DeliveryContext,
    DeliveryResult,
    Exchange,
    Outcome,
)
from leadhub_sms.phones import to_e164
from leadhub_sms.providers import load_providers
from leadhub_sms.providers.base import OutgoingSms, ProviderResult, SmsSettings
from leadhub_sms.segments import count_segments, fit

PROVIDERS = load_providers()
# One flat settings table per provider, told apart by `provider = "twilio"` (a msgspec tagged union).
SmsConfig = Union[tuple(p.Config for p in PROVIDERS.values())]  # type: ignore[valid-type]  # noqa: UP007
_MERGE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)
_ORDER = {Outcome.ACCEPTED: 0, Outcome.FAILED: 1, Outcome.REJECTED: 2}


def worst_case(template: str, budget: int) -> str:
    """The template with every merge field as ``budget`` characters: what the save-time check measures."""
    return _MERGE.sub(lambda m: "x" * budget if m.group().startswith("{{") else "", template)


def recipients(config: SmsSettings, lead: dict[str, Any]) -> tuple[list[str], dict[str, str]]:
    """E.164 numbers to text, and the ones that are not numbers (with why)."""
    wanted = list(config.to)
    if config.to_lead_phone and lead.get(config.lead_phone_field):
        wanted.append(str(lead[config.lead_phone_field]))
    numbers, invalid = [], {}
    for number in wanted:
        try:
            e164 = to_e164(number, config.default_country)
        except ValueError as exc:
            invalid[str(number)] = str(exc)
            continue
        if e164 not in numbers:
            numbers.append(e164)
    return numbers, invalid


class SmsChannel(Channel):
    name = "sms"
    title = "SMS"
    Config = SmsConfig

    def validate_delivery(self, config: SmsSettings, targets: list[str]) -> dict[str, str]:
        problems = super().validate_delivery(config, targets)
        count = count_segments(worst_case(config.body, config.merge_field_budget))
        if count.segments > config.max_segments and config.overflow == "reject":
            problems["body"] = (f"with {config.merge_field_budget}-character merge fields this message can take "
                                f"{count.segments} {count.encoding} segments; max_segments is {config.max_segments}")
        elif count.segments > config.max_segments and not _MERGE.search(config.body):
            problems["body"] = (f"this message takes {count.segments} {count.encoding} segments; "
                                f"max_segments is {config.max_segments}")
        if not config.to and not config.to_lead_phone:
            problems["to"] = "add a number, or send to the lead's phone"
        for number in config.to:
            try:
                to_e164(number, config.default_country)
            except ValueError as exc:
                problems["to"] = str(exc)
        return problems

    def preview_notes(self, settings: dict[str, Any], render: Callable[[str], str]) -> list[str]:
        """The live segment count of the body for the previewed lead, and its worst case."""
        body = str(settings.get("body") or "")
        try:
            count = count_segments(render(body).strip())
        except TemplateError as exc:
            return [str(exc)]
        budget = settings.get("merge_field_budget", 20)
        worst = count_segments(worst_case(body, budget if isinstance(budget, int) else 20))
        return [f"This lead: {count.characters} characters, {count.segments} {count.encoding} segment(s), "
                f"{count.remaining} left in the last one.",
                f"Worst case ({budget}-character merge fields): {worst.segments} {worst.encoding} segment(s)."]

    def deliver(self, ctx: DeliveryContext) -> DeliveryResult:
        config = ctx.config
        provider = PROVIDERS[config.__struct_config__.tag]
        try:
            text = ctx.render(config.body).strip()
        except TemplateError as exc:
            return DeliveryResult.rejected(str(exc))
        count = count_segments(text)
        if count.segments > config.max_segments:
            if config.overflow == "reject":
                return DeliveryResult.rejected(f"the message takes {count.segments} {count.encoding} segments, "
                                               f"more than max_segments {config.max_segments}")
            text = fit(text, config.max_segments)
            count = count_segments(text)
        numbers, invalid = recipients(config, {**ctx.lead, **ctx.payload})
        details: dict[str, Any] = {"encoding": count.encoding, "segments": count.segments,
                                   "characters": count.characters, "text": text}
        if invalid:
            details["invalid"] = invalid
        if not numbers:
            return DeliveryResult.rejected("no valid recipient: " + "; ".join(invalid.values()) if invalid
                                           else "no recipient for this lead", details=details)
        results = {number: self._send_one(provider, config, ctx, number, text, count.encoding) for number in numbers}
        details["recipients"] = {n: {"outcome": r.outcome.value, "id": r.message_id, "message": r.message}
                                 for n, r in results.items()}
        worst = max(results.values(), key=lambda r: _ORDER[r.outcome])
        first = next(iter(results.values()))
        if invalid and worst.outcome == Outcome.ACCEPTED:
            details["note"] = "some numbers were not valid and were skipped"
        return DeliveryResult(outcome=worst.outcome, message=worst.message, remote_id=first.message_id,
                              retry_after=worst.retry_after, request=worst.request or first.request,
                              response=worst.response or first.response, details=details)

    @staticmethod
    def _send_one(provider: Any, config: Any, ctx: DeliveryContext, number: str, text: str,
                  encoding: str) -> ProviderResult:
        values = {**ctx.lead, **ctx.payload, "to": number, "to_digits": number.lstrip("+"), "text": text}
        sms = OutgoingSms(config=config, to=number, text=text, encoding=encoding,
                          idempotency_key=ctx.idempotency_key, values=values)
        try:
            return provider.send(sms, ctx.http)
        except httpx.TimeoutException:
            return ProviderResult(Outcome.FAILED, f"{provider.name} did not answer within {config.timeout_seconds:g}s",
                                  request=Exchange(summary=f"SMS to {number}"))
        except httpx.TransportError as exc:
            return ProviderResult(Outcome.FAILED, f"cannot reach {provider.name}: {exc}",
                                  request=Exchange(summary=f"SMS to {number}"))
