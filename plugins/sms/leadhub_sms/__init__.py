"""The ``sms`` channel: a text per lead through Twilio, Vonage or any HTTP SMS gateway."""

from __future__ import annotations

from hub.plugins.hookspecs import hookimpl
from leadhub_sms.channel import SmsChannel

LEADHUB_PLUGIN_API = ">=1,<2"


@hookimpl
def leadhub_channels() -> list[type]:
    return [SmsChannel]
