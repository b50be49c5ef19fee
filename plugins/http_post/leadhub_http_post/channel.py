"""The http_post channel: build the request, send it, and read the buyer's answer into an outcome."""

from __future__ import annotations

from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from functools import lru_cache

import httpx
import msgspec

from hub.plugins.contract import (
    Channel,
    CheckResult,
    DeliveryContext,
    DeliveryResult,
    Exchange,
)
from leadhub_http_post.answers import BuyerAnswer, extract, is_set, unmet
from leadhub_http_post.auth import TokenCache, TokenError, apply_auth, fetch_token
from leadhub_http_post.body import flat_params, to_json, to_xml
from leadhub_http_post.config import HttpPostConfig, TokenAuth

EXCERPT = 4096
TRANSIENT_4XX = {408, 425, 429}


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds, from either of its two forms."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max((moment - datetime.now(timezone.utc)).total_seconds(), 0.0)


# dict(headers.items()), not dict(headers): that looks up each name by scanning every header again.
def _exchange_of_request(request: httpx.Request) -> Exchange:
    return Exchange(summary=f"{request.method} {request.url}", headers=dict(request.headers.items()),
                    body=request.content[:EXCERPT].decode("utf-8", errors="replace"))


def _exchange_of_response(response: httpx.Response) -> Exchange:
    return Exchange(summary=f"{response.status_code} {response.reason_phrase}", status=response.status_code,
                    headers=dict(response.headers.items()), body=response.text[:EXCERPT])


class HttpPostChannel(Channel):
    name = "http_post"
    title = "HTTP POST to any API"
    Config = HttpPostConfig

    def __init__(self) -> None:
        self.tokens = TokenCache()

    def build_request(self, ctx: DeliveryContext) -> httpx.Request:
        config: HttpPostConfig = ctx.config
        headers: dict[str, str | bytes] = {name: _header_value(ctx.render(value)) for name, value in config.headers.items()}
        headers["Idempotency-Key"] = ctx.idempotency_key
        if config.method == "GET" or config.format == "query":
            return httpx.Request(config.method, _url(config.url), params=flat_params(ctx.payload), headers=headers)
        if config.format == "json":
            headers.setdefault("Content-Type", "application/json")
            return httpx.Request(config.method, _url(config.url), content=to_json(ctx.payload), headers=headers)
        if config.format == "xml":
            headers.setdefault("Content-Type", "application/xml; charset=utf-8")
            return httpx.Request(config.method, _url(config.url), content=to_xml(ctx.payload, config.xml_root),
                                 headers=headers)
        return httpx.Request(config.method, _url(config.url), data=dict(flat_params(ctx.payload)), headers=headers)

    def deliver(self, ctx: DeliveryContext) -> DeliveryResult:
        config: HttpPostConfig = ctx.config
        for attempt_with_fresh_token in (False, True):
            request = self.build_request(ctx)
            try:
                token = self._token(config, ctx.http)
            except TokenError as exc:
                excerpt = _exchange_of_request(request)
                return (DeliveryResult.failed if exc.transient else DeliveryResult.rejected)(str(exc), request=excerpt)
            apply_auth(config.auth, request, token)
            sent = _exchange_of_request(request)
            fetched = {"secrets": [token]} if token else {}  # the hub masks the token wherever it shows
            try:
                response = ctx.http.send(_with_timeout(request, config.timeout_seconds))
            except httpx.TimeoutException:
                return DeliveryResult.failed(f"no answer within {config.timeout_seconds:g}s", request=sent, **fetched)
            except httpx.TransportError as exc:
                return DeliveryResult.failed(f"connection failed: {type(exc).__name__}: {exc}", request=sent,
                                             **fetched)
            if (response.status_code == 401 and isinstance(config.auth, TokenAuth)
                    and not attempt_with_fresh_token):
                self.tokens.forget(config.auth)  # the buyer revoked it early: fetch a new one once
                continue
            return msgspec.structs.replace(self.read_answer(config, response, sent), **fetched)
        raise AssertionError("unreachable")

    def _token(self, config: HttpPostConfig, http: httpx.Client) -> str | None:
        if isinstance(config.auth, TokenAuth):
            return self.tokens.get(config.auth, http, config.timeout_seconds)
        return None

    def read_answer(self, config: HttpPostConfig, response: httpx.Response, sent: Exchange) -> DeliveryResult:
        answer = BuyerAnswer(response.status_code, response.text)
        got = _exchange_of_response(response)
        status = response.status_code
        if status >= 500 or status in TRANSIENT_4XX:
            return DeliveryResult.failed(f"the buyer answered {status}", request=sent, response=got,
                                         retry_after=retry_after_seconds(response.headers.get("retry-after")))
        if is_set(config.reject) and not unmet(config.reject, answer):
            reason = extract(config.reject_reason, answer) or response.text[:200] or f"status {status}"
            return DeliveryResult.rejected(f"the buyer rejected the lead: {reason}", request=sent, response=got)
        if 300 <= status < 400:
            where = response.headers.get("location", "?")
            return DeliveryResult.rejected(f"the buyer redirected ({status}) to {where}; update the URL",
                                           request=sent, response=got)
        if status >= 400:
            reason = extract(config.reject_reason, answer) or response.text[:200]
            return DeliveryResult.rejected(f"the buyer answered {status}: {reason}".rstrip(": "),
                                           request=sent, response=got)
        if is_set(config.accept):
            problems = unmet(config.accept, answer)
            if problems:
                reason = extract(config.reject_reason, answer)
                message = "not accepted: " + "; ".join(problems) + (f" ({reason})" if reason else "")
                return DeliveryResult.rejected(message, request=sent, response=got)
        return DeliveryResult.accepted(remote_id=extract(config.remote_id, answer), request=sent, response=got)

    def check(self, config: HttpPostConfig, http: httpx.Client) -> CheckResult:
        """Reach the buyer (and fetch a token) without sending a lead."""
        try:
            if isinstance(config.auth, TokenAuth):
                fetch_token(config.auth, http, config.timeout_seconds)
            response = http.request("OPTIONS", config.url, timeout=config.timeout_seconds)
        except TokenError as exc:
            return CheckResult(ok=False, message=str(exc))
        except httpx.HTTPError as exc:
            return CheckResult(ok=False, message=f"cannot reach {config.url}: {type(exc).__name__}: {exc}")
        # Any answer but a server error proves the URL is reachable (many APIs refuse OPTIONS).
        return CheckResult(ok=response.status_code < 500 or response.status_code == 501,
                           message=f"{config.url} answered {response.status_code} {response.reason_phrase}")


def _header_value(value: str) -> str | bytes:
    """Header values are ASCII by default; anything else goes as UTF-8 bytes rather than failing."""
    return value if value.isascii() else value.encode()


def _with_timeout(request: httpx.Request, seconds: float) -> httpx.Request:
    request.extensions["timeout"] = httpx.Timeout(seconds).as_dict()
    return request


@lru_cache(maxsize=1024)
def _url(text: str) -> httpx.URL:
    """The parsed URL, kept: httpx parses a URL string in Python, about 50 µs on every try."""
    return httpx.URL(text)
