"""A "Slack-style incoming webhook" channel written outside the hub, to prove the plugin seam."""

from __future__ import annotations

from typing import Annotated

import httpx
import msgspec

from hub.plugins.contract import Channel, DeliveryContext, DeliveryResult, Secret
from hub.plugins.hookspecs import hookimpl

LEADHUB_PLUGIN_API = ">=1,<2"


class SlackConfig(msgspec.Struct, forbid_unknown_fields=True):
    """Post each lead to a channel's incoming webhook."""

    webhook_url: Annotated[str, Secret]  # Slack's webhook URLs are credentials
    text: str = ":tada: New lead {{ first_name }} ({{ email }})"
    channel: str = "#leads"


class SlackChannel(Channel):
    name = "slack_example"
    title = "Slack incoming webhook (example)"
    Config = SlackConfig

    def deliver(self, ctx: DeliveryContext) -> DeliveryResult:
        config: SlackConfig = ctx.config
        if ctx.lead.get("email") == "crash@example.com":
            raise RuntimeError("the example plugin crashes on purpose for this lead")
        try:
            response = ctx.http.post(config.webhook_url, json={"text": ctx.render(config.text),
                                                               "channel": config.channel}, timeout=10)
        except httpx.HTTPError as exc:
            return DeliveryResult.failed(str(exc))
        if response.status_code == 200 and response.text == "ok":
            return DeliveryResult.accepted()
        return DeliveryResult.rejected(f"Slack answered {response.status_code}: {response.text[:100]}")


@hookimpl
def leadhub_channels() -> list[type]:
    return [SlackChannel]
