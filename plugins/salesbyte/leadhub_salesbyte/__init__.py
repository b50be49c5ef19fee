"""The ``salesbyte`` channel: SalesByte's integration API "Create Lead" (create_brandawareness)."""

from __future__ import annotations

from hub.plugins.hookspecs import hookimpl
from leadhub_salesbyte.channel import SalesByteChannel

LEADHUB_PLUGIN_API = ">=1,<2"


@hookimpl
def leadhub_channels() -> list[type]:
    return [SalesByteChannel]
