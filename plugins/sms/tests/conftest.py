"""Fixtures: deliver one lead through the SMS channel to providers faked on the test kit's HTTP peer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from leadhub_sms.channel import SmsChannel, SmsConfig

from hub.plugins.configs import decode_config
from hub.plugins.contract import DeliveryResult
from hub.testing.context import hub_http_client, make_delivery_context

LEAD = {"first_name": "Ann", "phone": "07911 123456"}


@pytest.fixture
def deliver(http_peer) -> Callable[..., DeliveryResult]:  # type: ignore[no-untyped-def]
    client = hub_http_client()

    def deliver(settings: dict[str, Any], lead: dict[str, Any] | None = None) -> DeliveryResult:
        config = decode_config(SmsConfig, settings)
        return SmsChannel().deliver(make_delivery_context(config, dict(lead or LEAD), http=client))

    yield deliver
    client.close()
