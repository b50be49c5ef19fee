"""Build the contexts a channel or transport receives, for testing a plugin without a hub."""

from __future__ import annotations

from typing import Any

import httpx

from hub.delivery.context import build_delivery_context
from hub.delivery.service import make_http_client
from hub.plugins.contract import DeliveryContext


def hub_http_client() -> httpx.Client:
    """The HTTP client a hub's workers hand to channels (its transport included): test against what runs."""
    return make_http_client(threads=2)


def make_delivery_context(
    config: Any,
    payload: dict[str, Any],
    *,
    http: httpx.Client,
    lead: dict[str, Any] | None = None,
    attempt: int = 1,
    dispatch_id: int = 1,
    lead_id: int = 1,
    source: str = "test-source",
    idempotency_key: str | None = None,
) -> DeliveryContext:
    """A DeliveryContext exactly as the worker builds it (the lead defaults to the payload)."""
    return build_delivery_context(
        config=config,
        payload=payload,
        lead=dict(payload if lead is None else lead),
        lead_id=lead_id,
        source=source,
        dispatch_id=dispatch_id,
        attempt=attempt,
        http=http,
        key=idempotency_key,
    )
