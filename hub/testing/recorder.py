"""A scripted test channel that records what it was asked to deliver."""

from __future__ import annotations

import threading
from typing import Annotated

import msgspec

from hub.plugins.contract import (
    Channel,
    DeliveryContext,
    DeliveryResult,
    Exchange,
    Secret,
)
from hub.plugins.hookspecs import hookimpl


class RecordingConfig(msgspec.Struct, forbid_unknown_fields=True):
    """Answer the tries of a dispatch with ``outcomes`` in turn (the last one repeats).

    An outcome is accepted, rejected, failed or raise (the channel throws).
    """

    outcomes: list[str] = msgspec.field(default_factory=lambda: ["accepted"])
    token: Annotated[str, Secret] = ""


class RecordingChannel(Channel):
    name = "recorder"
    title = "Recorder (tests)"
    Config = RecordingConfig
    received: list[DeliveryContext] = []
    lock = threading.Lock()

    def deliver(self, ctx: DeliveryContext) -> DeliveryResult:
        with self.lock:
            self.received.append(ctx)
        outcome = ctx.config.outcomes[min(ctx.attempt, len(ctx.config.outcomes)) - 1]
        # The token travels in the excerpt on purpose: the hub must mask it.
        request = Exchange(summary="RECORD", headers={"X-Token": ctx.config.token},
                           body=msgspec.json.encode(ctx.payload).decode())
        if outcome == "raise":
            raise RuntimeError(f"plugin bug with token {ctx.config.token}")
        if outcome == "accepted":
            return DeliveryResult.accepted(remote_id=f"r-{ctx.lead_id}", request=request)
        if outcome == "rejected":
            return DeliveryResult.rejected("buyer said no", request=request)
        return DeliveryResult.failed(f"buyer down (token {ctx.config.token})", request=request)


class RecorderPlugin:
    """Register with ``make_test_hub(..., plugins=[("recorder", RecorderPlugin())])``."""

    @hookimpl
    def leadhub_channels(self) -> list[type]:
        return [RecordingChannel]
