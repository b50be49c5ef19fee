"""Every hook a Leadhub plugin can implement, with its contract.

A plugin is a module (or object) registered under the entry-point group
``leadhub``; it implements any of these hooks with ``@hookimpl``::

    from hub.plugins.hookspecs import hookimpl

    @hookimpl
    def leadhub_channels():
        return [MyChannel]

A plugin may declare the plugin API versions it supports with a module-level
``LEADHUB_PLUGIN_API = ">=1,<2"``; an incompatible plugin is refused at load.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

PROJECT = "leadhub"
#: The plugin API version this core implements. Breaking hook changes bump the major.
PLUGIN_API_VERSION = "1.0"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def leadhub_channels() -> list[type]:
    """Return the real-time channel classes (subclasses of ``hub.plugins.contract.Channel``).

    Each class's ``name`` must be unique across all plugins; a clash is
    reported at load and the later one is refused.
    """


@hookspec
def leadhub_export_transports() -> list[type]:
    """Return export transport classes (subclasses of ``hub.plugins.contract.ExportTransport``)."""


@hookspec
def leadhub_transforms() -> dict[str, Callable[..., Any]]:
    """Return named mapping transforms: ``{"name": fn}``.

    A transform is a pure function ``fn(value, *args) -> value``; ``args`` are
    the strings after the name in a pipeline step (``"truncate:20"`` gives
    ``fn(value, "20")``) or the ``args`` list of a table step. Raise
    ``ValueError`` with a short message for a value it cannot transform.
    """


@hookspec(firstresult=True)
def leadhub_resolve_secret(reference: str) -> str | None:
    """Resolve a secret reference such as ``env:NAME`` to its value.

    Return None when the reference is not yours; the first non-None answer
    wins. The core's ``env:`` resolver is itself a default plugin.
    """


@hookspec
def leadhub_lead_received(lead: dict[str, Any]) -> None:
    """Called after a lead is committed (``id``, ``source``, ``status``, ``fields``).

    For enrichment, notifications and metrics. Must be fast and must not
    raise: an exception is logged and ignored, the lead is already safe.
    """


@hookspec
def leadhub_dispatch_finished(dispatch: dict[str, Any], attempt: dict[str, Any]) -> None:
    """Called after each attempt is recorded (dispatch ``id``, ``delivery``, ``status``, ...).

    ``attempt`` carries ``number``, ``outcome``, ``message``, ``duration_ms``.
    Must not raise: an exception is logged and ignored.
    """
