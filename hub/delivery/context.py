"""Build the DeliveryContext a channel receives: the mapped payload, the lead and a template renderer."""

from __future__ import annotations

from typing import Any

import httpx

from hub.mapping.templates import render
from hub.plugins.contract import DeliveryContext


def idempotency_key(dispatch_id: int) -> str:
    """The key sent to buyers with every try of one dispatch, so they can drop a repeat."""
    return f"leadhub-dispatch-{dispatch_id}"


def build_delivery_context(
    *,
    config: Any,
    payload: dict[str, Any],
    lead: dict[str, Any],
    lead_id: int,
    source: str,
    dispatch_id: int,
    attempt: int,
    http: httpx.Client,
    key: str | None = None,
) -> DeliveryContext:
    # Templates see the lead's fields with the mapped fields on top (the mapping wins).
    merged = {**lead, **payload}
    return DeliveryContext(
        config=config,
        payload=payload,
        lead=lead,
        lead_id=lead_id,
        source=source,
        dispatch_id=dispatch_id,
        attempt=attempt,
        idempotency_key=key or idempotency_key(dispatch_id),
        http=http,
        render=lambda template: render(template, merged),
    )
