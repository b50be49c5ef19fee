"""Fault points: places where the crash tests make the process die on purpose."""

from __future__ import annotations

import os
import signal


def fault_point(name: str) -> None:
    """Die here (SIGKILL, no cleanup) if HUB_FAULT names this point."""
    if os.environ.get("HUB_FAULT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
