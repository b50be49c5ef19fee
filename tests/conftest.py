"""Shared fixtures of the core tests: an embedded hub with the recording test channel."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from hub.plugins.contract import DeliveryContext
from hub.testing.hub import add_source, make_test_hub
from hub.testing.recorder import RecorderPlugin, RecordingChannel
from hub.testing.services import broker_queue, postgres_database
from hub.web.app import create_app

FIELDS = [
    {"name": "first_name", "type": "string", "required": True, "max_length": 50},
    {"name": "email", "type": "email", "required": True},
    {"name": "phone", "type": "phone", "country": "GB"},
    {"name": "age", "type": "integer"},
    {"name": "postcode", "type": "string"},
]
SOURCE_KEY = "s3cret-key"
logging.getLogger("pika").setLevel(logging.WARNING)  # its INFO lines would bury a failing test's output


@pytest.fixture
def recorder() -> Iterator[list[DeliveryContext]]:
    RecordingChannel.received = []
    yield RecordingChannel.received


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--database", choices=["sqlite", "postgresql"], default="sqlite",
                     help="run the hub fixtures on the embedded SQLite or on the local PostgreSQL")
    parser.addoption("--broker", choices=["embedded", "redis", "rabbitmq"], default="embedded",
                     help="send dispatches through the in-process broker or a private queue on the local Redis/RabbitMQ")


@pytest.fixture
def hub_env(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    """HUB_* settings for the chosen database and broker; {} is the embedded default."""
    env: dict[str, str] = {}
    with contextlib.ExitStack() as stack:
        if request.config.getoption("--database") == "postgresql":
            env["HUB_DATABASE_URL"] = stack.enter_context(postgres_database())
        if (broker := request.config.getoption("--broker")) != "embedded":
            env.update(stack.enter_context(broker_queue(broker)))
        yield env


@pytest.fixture
def hub(tmp_path, recorder, hub_env):  # type: ignore[no-untyped-def]
    hub = make_test_hub(tmp_path, plugins=[("recorder", RecorderPlugin())], env=hub_env)
    add_source(hub, "form", FIELDS, api_key=SOURCE_KEY, dedupe_on=["email"], dedupe_window_hours=24)
    yield hub
    hub.engine.dispose()


@pytest.fixture
def client(hub) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    # embedded=True: this process also runs the worker, whichever broker carries the messages.
    with TestClient(create_app(hub, embedded=True)) as client:
        yield client


@pytest.fixture
def post(client: TestClient) -> Callable[..., Any]:
    """Post a lead to the ``form`` source with its key."""

    def post(fields: dict[str, Any], *, key: str = SOURCE_KEY, headers: dict[str, str] | None = None) -> Any:
        return client.post("/webhooks/form", json=fields, headers={"X-API-Key": key, **(headers or {})})

    return post
