"""The core's mapping transforms, registered as a default plugin like any third-party one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hub.mapping.transforms import BUILTIN_TRANSFORMS
from hub.plugins.hookspecs import hookimpl


@hookimpl
def leadhub_transforms() -> dict[str, Callable[..., Any]]:
    return dict(BUILTIN_TRANSFORMS)
