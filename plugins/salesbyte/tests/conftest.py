"""Fixtures: a strict SalesByte on loopback and a way to deliver one lead to it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from hub.plugins.configs import decode_config
from hub.plugins.contract import DeliveryResult
from hub.testing.context import make_delivery_context
from leadhub_salesbyte.channel import SalesByteChannel
from leadhub_salesbyte.config import SalesByteConfig
from leadhub_salesbyte.testing import SETTINGS, SalesByte


@pytest.fixture
def salesbyte(http_peer) -> SalesByte:  # type: ignore[no-untyped-def]
    server = SalesByte()
    http_peer.route("POST", "/integrations/create_brandawareness", server)
    return server


@pytest.fixture
def deliver(http_peer, salesbyte) -> Callable[..., DeliveryResult]:  # type: ignore[no-untyped-def]
    channel = SalesByteChannel()
    client = httpx.Client()

    def deliver(payload: dict[str, Any], **settings: Any) -> DeliveryResult:
        config = decode_config(SalesByteConfig, {"base_url": http_peer.url, **SETTINGS, **settings})
        return channel.deliver(make_delivery_context(config, payload, http=client))

    yield deliver
    client.close()
