"""Applying a delivery's authentication, including LeadByte-style two-step tokens with a cache."""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass

import httpx

from leadhub_http_post.answers import _MISSING, BuyerAnswer
from leadhub_http_post.config import ApiKeyAuth, Auth, BasicAuth, BearerAuth, TokenAuth

EXPIRY_MARGIN = 0.9  # renew a token when 90% of its lifetime has passed


class TokenError(Exception):
    """The token call failed; ``transient`` says whether trying later may help."""

    def __init__(self, message: str, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


@dataclass
class _Cached:
    token: str
    expires_at: float  # time.monotonic()


class TokenCache:
    """Tokens per (token URL, client id, secret), shared by a worker's threads."""

    def __init__(self) -> None:
        self._tokens: dict[str, _Cached] = {}
        self._lock = threading.Lock()

    @staticmethod
    def key(auth: TokenAuth) -> str:
        return hashlib.sha256(f"{auth.token_url}\0{auth.client_id}\0{auth.client_secret}".encode()).hexdigest()

    def get(self, auth: TokenAuth, http: httpx.Client, timeout: float) -> str:
        key = self.key(auth)
        with self._lock:
            cached = self._tokens.get(key)
            if cached and cached.expires_at > time.monotonic():
                return cached.token
        token, ttl = fetch_token(auth, http, timeout)
        with self._lock:
            self._tokens[key] = _Cached(token, time.monotonic() + ttl * EXPIRY_MARGIN)
        return token

    def forget(self, auth: TokenAuth) -> None:
        with self._lock:
            self._tokens.pop(self.key(auth), None)


def fetch_token(auth: TokenAuth, http: httpx.Client, timeout: float) -> tuple[str, float]:
    """Call the token URL; returns (token, lifetime in seconds)."""
    params = dict(auth.params)
    if auth.client_id:
        params.setdefault("client_id", auth.client_id)
    if auth.client_secret:
        params.setdefault("client_secret", auth.client_secret)
    try:
        if auth.method == "GET":
            response = http.get(auth.token_url, params=params, timeout=timeout)
        elif auth.format == "json":
            response = http.post(auth.token_url, json=params, timeout=timeout)
        else:
            response = http.post(auth.token_url, data=params, timeout=timeout)
    except httpx.TimeoutException:
        raise TokenError(f"the token call to {auth.token_url} timed out", transient=True) from None
    except httpx.TransportError as exc:
        raise TokenError(f"the token call to {auth.token_url} failed: {exc}", transient=True) from None
    if response.status_code >= 500 or response.status_code == 429:
        raise TokenError(f"the token call answered {response.status_code}", transient=True)
    if response.status_code >= 400:
        raise TokenError(f"the token call answered {response.status_code}: check the client id and secret",
                         transient=False)
    answer = BuyerAnswer(response.status_code, response.text)
    token = answer.at_json(auth.token_json_path)
    if token is _MISSING or not token:
        raise TokenError(f"the token call's answer has no token at {auth.token_json_path}", transient=False)
    expires = answer.at_json(auth.expires_json_path)
    try:
        ttl = float(expires) if expires is not _MISSING and expires is not None else auth.default_ttl_seconds
    except (TypeError, ValueError):
        ttl = auth.default_ttl_seconds
    return str(token), max(ttl, 0.0)


def apply_auth(auth: Auth, request: httpx.Request, token: str | None) -> None:
    """Add the credentials to an outgoing request (the token comes from the cache for TokenAuth)."""
    if isinstance(auth, BasicAuth):
        request.headers["Authorization"] = httpx.BasicAuth(auth.username, auth.password)._auth_header
    elif isinstance(auth, BearerAuth):
        request.headers["Authorization"] = f"Bearer {auth.token}"
    elif isinstance(auth, ApiKeyAuth):
        if auth.in_ == "header":
            request.headers[auth.name] = auth.value
        else:
            request.url = request.url.copy_merge_params({auth.name: auth.value})
    elif isinstance(auth, TokenAuth) and token is not None:
        request.headers[auth.header] = f"{auth.prefix}{token}"
