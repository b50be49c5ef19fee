"""Backoff, the dispatch state machine, and the migrations matching the models."""

from __future__ import annotations

import random

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from hub.db import make_engine
from hub.delivery.retry import CAP_SECONDS, backoff_seconds
from hub.delivery.runner import next_state
from hub.migrate import upgrade
from hub.models import DispatchStatus
from hub.plugins.contract import DeliveryResult


def test_backoff_doubles_with_jitter_and_is_capped():
    rng = random.Random(1)
    delays = [backoff_seconds(n, base=10, rng=rng) for n in range(1, 6)]
    for n, delay in enumerate(delays, start=1):
        assert 10 * 2 ** (n - 1) * 0.5 <= delay <= 10 * 2 ** (n - 1) * 1.5
    assert backoff_seconds(60, rng=rng) <= CAP_SECONDS * 1.5
    assert backoff_seconds(1, base=1, retry_after=120, rng=rng) == 120


def test_next_state():
    assert next_state(DeliveryResult.accepted(), 1, 3, 10) == (DispatchStatus.ACCEPTED, None)
    assert next_state(DeliveryResult.rejected("no"), 1, 3, 10) == (DispatchStatus.REJECTED, None)
    status, delay = next_state(DeliveryResult.failed("down"), 1, 3, 10)
    assert status == DispatchStatus.FAILED and 5 <= delay <= 15
    assert next_state(DeliveryResult.failed("down"), 3, 3, 10) == (DispatchStatus.DEAD, None)
    status, delay = next_state(DeliveryResult.failed("429", retry_after=600), 1, 3, 10)
    assert delay == 600


def test_migrations_build_exactly_the_models_and_run_twice(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    upgrade(engine)
    upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert diff == []
