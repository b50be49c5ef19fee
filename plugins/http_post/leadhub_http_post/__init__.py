"""The ``http_post`` channel: deliver each lead to any HTTP API, as the buyer documents it."""

from __future__ import annotations

from hub.plugins.hookspecs import hookimpl
from leadhub_http_post.channel import HttpPostChannel

LEADHUB_PLUGIN_API = ">=1,<2"


@hookimpl
def leadhub_channels() -> list[type]:
    return [HttpPostChannel]
