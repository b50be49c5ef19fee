"""The ``email`` channel (a personalised message per lead) and ``email`` export transport."""

from __future__ import annotations

from hub.plugins.hookspecs import hookimpl
from leadhub_email.channel import EmailChannel
from leadhub_email.transport import EmailTransport

LEADHUB_PLUGIN_API = ">=1,<2"


@hookimpl
def leadhub_channels() -> list[type]:
    return [EmailChannel]


@hookimpl
def leadhub_export_transports() -> list[type]:
    return [EmailTransport]
