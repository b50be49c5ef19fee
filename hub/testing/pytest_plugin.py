"""Pytest fixtures of the Leadhub test kit, loaded automatically once leadhub is installed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hub.testing.http_peer import HttpPeer
from hub.testing.smtp import Inbox, smtp_inbox


@pytest.fixture
def http_peer() -> Iterator[HttpPeer]:
    """A started HTTP server on 127.0.0.1 that records requests and answers as told."""
    with HttpPeer() as peer:
        yield peer


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    """A started SMTP server on 127.0.0.1 (``inbox.port``) keeping every message in ``inbox.messages``."""
    with smtp_inbox() as started:
        yield started
