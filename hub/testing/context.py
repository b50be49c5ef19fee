"""Build the contexts a channel or transport receives, for testing a plugin without a hub."""

from __future__ import annotations

from typing import Any

import httpx

from hub.mapping.templates import render
from hub.plugins.contract import DeliveryContext


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
    idempotency_key: str = "dispatch-1",
) -> DeliveryContext:
    """A DeliveryContext as the worker builds it: templates see the lead merged with the payload."""
    lead = dict(payload if lead is None else lead)
    merged = {**lead, **payload}
    return DeliveryContext(
        config=config,
        payload=payload,
        lead=lead,
        lead_id=lead_id,
        source=source,
        dispatch_id=dispatch_id,
        attempt=attempt,
        idempotency_key=idempotency_key,
        http=http,
        render=lambda template: render(template, merged),
    )
