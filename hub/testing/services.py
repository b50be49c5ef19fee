"""Tests that need PostgreSQL, Redis or RabbitMQ: fail in CI when the service is missing, skip elsewhere."""

from __future__ import annotations

import contextlib
import os
import socket
import uuid
from collections.abc import Iterator
from typing import NoReturn

import pytest

SERVICES = {
    "postgresql": ("127.0.0.1", 5432, "start PostgreSQL (trust auth, database 'test')"),
    "redis": ("127.0.0.1", 6379, "start Redis: redis-server --daemonize yes"),
    "rabbitmq": ("127.0.0.1", 5672, "start RabbitMQ: rabbitmq-server -detached"),
}


def require_service(name: str) -> None:
    host, port, how = SERVICES[name]
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError:
        missing(f"{name} is not reachable on {host}:{port} ({how})")


def missing(message: str) -> NoReturn:
    """A service a test needs is missing: a failure in CI, a skip (saying what to start) elsewhere."""
    if os.environ.get("CI"):
        pytest.fail(message + "; CI must run the production-mode tests")
    pytest.skip(message)


@contextlib.contextmanager
def postgres_database(admin_url: str = "postgresql+psycopg://postgres@127.0.0.1:5432/test") -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test; dropped afterwards. Yields its URL."""
    import psycopg

    require_service("postgresql")
    name = f"leadhub_test_{uuid.uuid4().hex[:12]}"
    plain = admin_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


#: The brokers on this machine; Redis uses its database 15 so tests never touch database 0.
BROKER_URLS = {
    "redis": "redis://127.0.0.1:6379/15",
    "rabbitmq": "amqp://guest:guest@127.0.0.1:5672/%2F",
}


@contextlib.contextmanager
def broker_queue(kind: str, url: str | None = None) -> Iterator[dict[str, str]]:
    """A private queue on the local Redis or RabbitMQ for one test; deleted afterwards.

    Yields the HUB_* settings that point a hub at it.
    """
    require_service(kind)
    url = url or BROKER_URLS[kind]
    queue = f"leadhub_test_{uuid.uuid4().hex[:10]}"
    try:
        yield {"HUB_BROKER_URL": url, "HUB_QUEUE_NAME": queue}
    finally:
        forget_queue(kind, url, queue)


def forget_queue(kind: str, url: str, queue: str) -> None:
    """Delete a test queue and its delay and dead-letter queues from the broker."""
    if kind == "redis":
        import redis

        client = redis.Redis.from_url(url)
        keys = list(client.scan_iter(f"dramatiq:{queue}*"))
        if keys:
            client.delete(*keys)
        client.close()
    else:
        import pika

        connection = pika.BlockingConnection(pika.URLParameters(url))
        channel = connection.channel()
        for name in (queue, f"{queue}.DQ", f"{queue}.XQ"):
            channel.queue_delete(name)
        connection.close()
