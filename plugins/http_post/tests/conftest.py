"""Fixtures for the http_post tests: a real pooled client and a way to deliver one lead."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from leadhub_http_post.channel import HttpPostChannel
from leadhub_http_post.config import HttpPostConfig

from hub.plugins.configs import decode_config
from hub.plugins.contract import DeliveryResult
from hub.testing.context import hub_http_client, make_delivery_context

LEAD = {"FirstName": "Zoë", "Email": "zoe@example.com", "Age": 41, "Consent": True}


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with hub_http_client() as client:
        yield client


@pytest.fixture
def channel() -> HttpPostChannel:
    return HttpPostChannel()


@pytest.fixture
def deliver(channel, http, http_peer) -> Callable[..., DeliveryResult]:  # type: ignore[no-untyped-def]
    """Deliver ``payload`` with settings ``config`` (url defaults to the peer's /leads)."""

    def deliver(config: dict[str, Any] | None = None, payload: dict[str, Any] | None = None,
                **context: Any) -> DeliveryResult:
        settings = {"url": f"{http_peer.url}/leads", **(config or {})}
        ctx = make_delivery_context(decode_config(HttpPostConfig, settings), dict(payload or LEAD), http=http,
                                    **context)
        return channel.deliver(ctx)

    return deliver
