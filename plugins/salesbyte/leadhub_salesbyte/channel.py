"""The SalesByte channel: one POST per lead; the answer's status decides the outcome."""

from __future__ import annotations

from typing import Any

import httpx
import msgspec

from hub.plugins.contract import Channel, CheckResult, DeliveryContext, DeliveryResult, Exchange

from leadhub_salesbyte.body import MAPPABLE, PATH, build_body
from leadhub_salesbyte.config import SalesByteConfig

LINKS = ("edit", "customer_view", "customer_verificate", "customer_project_approval")
EXCERPT = 4096


def _validation_messages(answer: Any) -> str:
    """SalesByte's 422 body ({"message", "errors": {field: [..]}}) as one readable line."""
    if not isinstance(answer, dict):
        return ""
    errors = answer.get("errors")
    if isinstance(errors, dict) and errors:
        return "; ".join(f"{field}: {' '.join(map(str, msgs)) if isinstance(msgs, list) else msgs}"
                         for field, msgs in errors.items())
    return str(answer.get("message") or "")


def _not_found_hint(text: str) -> str:
    lowered = text.lower()
    hints = [hint for words, hint in (
        (("uuid", "integration"), "the integration id (uuid)"),
        (("profile",), "the quote profile id"),
        (("salesperson", "sales person", "email"), "the salesperson email"),
    ) if any(word in lowered for word in words)]
    return " or ".join(hints) if hints else "the integration id (uuid), the quote profile id and the salesperson email"


class SalesByteChannel(Channel):
    name = "salesbyte"
    title = "SalesByte quote"
    Config = SalesByteConfig
    allowed_targets = MAPPABLE

    def validate_delivery(self, config: SalesByteConfig, targets: list[str]) -> dict[str, str]:
        problems = super().validate_delivery(config, targets)
        if "customer_name" not in targets:
            problems["mapping"] = "map customer_name: SalesByte requires it (e.g. from '{{ first_name }} {{ last_name }}')"
        return problems

    def deliver(self, ctx: DeliveryContext) -> DeliveryResult:
        config: SalesByteConfig = ctx.config
        url = config.base_url.rstrip("/") + PATH
        body = build_body(config, config.uuid, ctx.payload)
        content = msgspec.json.encode(body)
        headers = {"Content-Type": "application/json", "Accept": "application/json",
                   "Idempotency-Key": ctx.idempotency_key}
        sent = Exchange(summary=f"POST {url}", headers=headers, body=content.decode()[:EXCERPT])
        try:
            response = ctx.http.post(url, content=content, headers=headers, timeout=config.timeout_seconds)
        except httpx.TimeoutException:
            return DeliveryResult.failed(f"SalesByte did not answer within {config.timeout_seconds:g}s", request=sent)
        except httpx.TransportError as exc:
            return DeliveryResult.failed(f"cannot reach SalesByte: {type(exc).__name__}: {exc}", request=sent)
        got = Exchange(summary=f"{response.status_code} {response.reason_phrase}", status=response.status_code,
                       headers=dict(response.headers), body=response.text[:EXCERPT])
        try:
            answer = response.json()
        except ValueError:
            answer = None
        status = response.status_code
        if status == 200 and isinstance(answer, dict) and answer.get("id") is not None:
            links = answer.get("links") if isinstance(answer.get("links"), dict) else {}
            kept = {name: links.get(name) for name in LINKS if links.get(name)}
            return DeliveryResult.accepted(remote_id=str(answer["id"]), request=sent, response=got,
                                           details={"quote_id": answer["id"], "links": kept})
        if status == 422:
            reason = _validation_messages(answer) or response.text[:300]
            return DeliveryResult.rejected(f"SalesByte refused the quote: {reason}", request=sent, response=got,
                                           details={"validation": answer if isinstance(answer, dict) else None})
        if status == 404:
            text = _validation_messages(answer) or response.text
            return DeliveryResult.rejected(
                f"SalesByte could not find {_not_found_hint(text)}; check the delivery settings ({text[:200]})",
                request=sent, response=got, details={"misconfigured": True})
        if status >= 500 or status == 429:
            return DeliveryResult.failed(f"SalesByte answered {status}", request=sent, response=got)
        if status == 200:
            return DeliveryResult.failed("SalesByte answered 200 without a quote id", request=sent, response=got)
        return DeliveryResult.rejected(f"SalesByte answered {status}: {response.text[:200]}", request=sent,
                                       response=got)

    def check(self, config: SalesByteConfig, http: httpx.Client) -> CheckResult:
        try:
            response = http.get(config.base_url, timeout=config.timeout_seconds)
        except httpx.HTTPError as exc:
            return CheckResult(ok=False, message=f"cannot reach {config.base_url}: {exc}")
        return CheckResult(ok=response.status_code < 500, message=f"{config.base_url} answered {response.status_code}")
