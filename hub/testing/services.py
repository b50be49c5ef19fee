"""Tests that need PostgreSQL, Redis or RabbitMQ: fail in CI when the service is missing, skip elsewhere."""

from __future__ import annotations

import os
import socket

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
