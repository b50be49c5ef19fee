"""Tests that need PostgreSQL, Redis or RabbitMQ: fail in CI when the service is missing, skip elsewhere."""

from __future__ import annotations

import contextlib
import os
import socket
import uuid
from collections.abc import Iterator

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
        message = f"{name} is not reachable on {host}:{port} ({how})"
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
