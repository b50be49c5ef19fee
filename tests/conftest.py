"""Shared fixtures of the core tests: an embedded hub with the recording test channel."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from hub.plugins.contract import DeliveryContext
from hub.testing.hub import add_source, make_test_hub
from hub.testing.recorder import RecorderPlugin, RecordingChannel
from hub.testing.services import postgres_database
from hub.web.app import create_app

FIELDS = [
    {"name": "first_name", "type": "string", "required": True, "max_length": 50},
    {"name": "email", "type": "email", "required": True},
    {"name": "phone", "type": "phone", "country": "GB"},
    {"name": "age", "type": "integer"},
    {"name": "postcode", "type": "string"},
]
SOURCE_KEY = "s3cret-key"


@pytest.fixture
def recorder() -> Iterator[list[DeliveryContext]]:
    RecordingChannel.received = []
    yield RecordingChannel.received


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--database", choices=["sqlite", "postgresql"], default="sqlite",
                     help="run the hub fixtures on the embedded SQLite or on the local PostgreSQL")


@pytest.fixture
def database_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """None for the embedded SQLite; a fresh PostgreSQL database with --database postgresql."""
    if request.config.getoption("--database") == "postgresql":
        with postgres_database() as url:
            yield url
    else:
        yield None


@pytest.fixture
def hub(tmp_path, recorder, database_url):  # type: ignore[no-untyped-def]
    env = {"HUB_DATABASE_URL": database_url} if database_url else None
    hub = make_test_hub(tmp_path, plugins=[("recorder", RecorderPlugin())], env=env)
    add_source(hub, "form", FIELDS, api_key=SOURCE_KEY, dedupe_on=["email"], dedupe_window_hours=24)
    yield hub
    hub.engine.dispose()


@pytest.fixture
def client(hub) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(create_app(hub)) as client:
        yield client


@pytest.fixture
def post(client: TestClient) -> Callable[..., Any]:
    """Post a lead to the ``form`` source with its key."""

    def post(fields: dict[str, Any], *, key: str = SOURCE_KEY, headers: dict[str, str] | None = None) -> Any:
        return client.post("/webhooks/form", json=fields, headers={"X-API-Key": key, **(headers or {})})

    return post
