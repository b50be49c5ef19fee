"""Pytest fixtures of the Leadhub test kit, loaded automatically once leadhub is installed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hub.testing.http_peer import HttpPeer


@pytest.fixture
def http_peer() -> Iterator[HttpPeer]:
    """A started HTTP server on 127.0.0.1 that records requests and answers as told."""
    with HttpPeer() as peer:
        yield peer
