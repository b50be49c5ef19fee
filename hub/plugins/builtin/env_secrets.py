"""The ``env:NAME`` secret resolver, a default plugin."""

from __future__ import annotations

import os

from hub.plugins.hookspecs import hookimpl


@hookimpl
def leadhub_resolve_secret(reference: str) -> str | None:
    if reference.startswith("env:"):
        return os.environ.get(reference[4:])
    return None
