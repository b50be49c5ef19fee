"""The SalesByte channel: one POST per lead; SalesByte's status code decides the outcome."""

from __future__ import annotations

from typing import Any

import httpx
import msgspec

from hub.plugins.contract import (
    Channel,
    CheckResult,
    DeliveryContext,
    DeliveryResult,
    Exchange,
)
from leadhub_salesbyte.body import MAPPABLE, PATH, build_body
from leadhub_salesbyte.config import SalesByteConfig

LINKS = ("edit", "customer_view", "customer_verificate", "customer_project_approval")
EXCERPT = 4096  # characters of a body kept on the attempt
KEPT_HEADERS = ("content-type", "retry-after", "x-request-id")
#: What a 404 can be about: (words SalesByte's message may use, the setting to check).
NOT_FOUND = (
    (("uuid", "integration"), "the integration id (uuid)"),
    (("profile",), "the quote profile id"),
    (("salesperson", "sales person", "user", "email"), "the salesperson email"),
)


def validation_messages(answer: Any) -> str:
    """SalesByte's error body ({"message", "errors": {field: [..]}}) as one readable line."""
    if not isinstance(answer, dict):
        return ""
    errors = answer.get("errors")
    if isinstance(errors, dict) and errors:
        return "; ".join(f"{field}: {' '.join(map(str, msgs)) if isinstance(msgs, list) else msgs}"
                         for field, msgs in errors.items())
    return str(answer.get("message") or "")


def not_found_hint(text: str) -> str:
    """The settings a 404 points at: those SalesByte's text names, else all three."""
    lowered = text.lower()
    hints = [hint for words, hint in NOT_FOUND if any(word in lowered for word in words)]
    return " or ".join(hints or [hint for _, hint in NOT_FOUND])


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    return float(value) if value.isdigit() else None


class SalesByteChannel(Channel):
    name = "salesbyte"
    title = "SalesByte quote"
    Config = SalesByteConfig
    allowed_targets = MAPPABLE

    def validate_delivery(self, config: SalesByteConfig, targets: list[str]) -> dict[str, str]:
        """Refuse targets that are not API fields, and require a customer_name target."""
        problems = super().validate_delivery(config, targets)
        if "customer_name" not in targets:
            problems["mapping.customer_name"] = (
                "SalesByte requires customer_name: map it, e.g. from '{{ first_name }} {{ last_name }}'")
        return problems

    def deliver(self, ctx: DeliveryContext) -> DeliveryResult:
        config: SalesByteConfig = ctx.config
        url = config.base_url.rstrip("/") + PATH
        content = msgspec.json.encode(build_body(config, ctx.payload))
        headers = {"Content-Type": "application/json", "Accept": "application/json",
                   "Idempotency-Key": ctx.idempotency_key}
        sent = Exchange(summary=f"POST {url}", headers=headers, body=content.decode()[:EXCERPT])
        try:
            response = ctx.http.post(url, content=content, headers=headers, timeout=config.timeout_seconds)
        except httpx.TimeoutException:
            return DeliveryResult.failed(f"SalesByte did not answer within {config.timeout_seconds:g}s",
                                         request=sent)
        except httpx.TransportError as exc:
            return DeliveryResult.failed(f"cannot reach SalesByte: {type(exc).__name__}: {exc}", request=sent)
        got = Exchange(summary=f"{response.status_code} {response.reason_phrase}", status=response.status_code,
                       headers={k: v for k, v in response.headers.items() if k in KEPT_HEADERS},
                       body=response.text[:EXCERPT])
        return self._outcome(response, sent, got)

    def _outcome(self, response: httpx.Response, sent: Exchange, got: Exchange) -> DeliveryResult:
        status, answer = response.status_code, _json(response)
        exchanges = {"request": sent, "response": got}
        if status == 200:
            if not (isinstance(answer, dict) and isinstance(answer.get("id"), (int, str))):
                # Unexpected: the quote may or may not exist; a retry carries the same Idempotency-Key.
                return DeliveryResult.failed("SalesByte answered 200 without a quote id", **exchanges)
            links = answer.get("links") if isinstance(answer.get("links"), dict) else {}
            # Absent and null links are left out, so the lead page shows only links that work.
            kept = {name: links[name] for name in LINKS if isinstance(links.get(name), str) and links[name]}
            return DeliveryResult.accepted(remote_id=str(answer["id"]), details={"links": kept}, **exchanges)
        if status == 422:
            reason = validation_messages(answer) or response.text[:300]
            return DeliveryResult.rejected(f"SalesByte refused the lead: {reason}", **exchanges)
        if status == 404:
            said = validation_messages(answer) or response.text[:200]
            return DeliveryResult.rejected(
                f"SalesByte could not find {not_found_hint(said)}: check the delivery's settings"
                f" (SalesByte said: {said or 'Not Found'})", details={"misconfigured": True}, **exchanges)
        if status >= 500 or status in (408, 429):
            return DeliveryResult.failed(f"SalesByte answered {status}", retry_after=_retry_after(response),
                                         **exchanges)
        return DeliveryResult.rejected(f"SalesByte answered {status}: {response.text[:200]}", **exchanges)

    def check(self, config: SalesByteConfig, http: httpx.Client) -> CheckResult:
        """Reach the SalesByte address (the API has no read-only call to test the ids with)."""
        try:
            response = http.get(config.base_url, timeout=config.timeout_seconds)
        except httpx.HTTPError as exc:
            return CheckResult(ok=False, message=f"cannot reach {config.base_url}: {exc}")
        return CheckResult(ok=response.status_code < 500, message=f"{config.base_url} answered {response.status_code}")
