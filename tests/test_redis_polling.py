"""The Redis consumer asks every few milliseconds while messages flow, every 10-20 ms for a minute after,
then backs off as Dramatiq does."""

from __future__ import annotations

import uuid
from typing import Any

import dramatiq
import dramatiq.brokers.redis as dramatiq_redis
import pytest
from dramatiq.common import dq_name

from hub.delivery import redis_broker
from hub.delivery.redis_broker import (
    BUSY_MAX_SLEEP_MS,
    WARM_MAX_SLEEP_MS,
    BriskRedisBroker,
)
from hub.testing.services import BROKER_URLS, forget_queue, require_service


class Sleeps:
    """Stands in for the ``time`` module of Dramatiq's Redis broker: records each sleep instead of sleeping."""

    def __init__(self) -> None:
        self.taken: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.taken.append(seconds * 1000)

    def __getattr__(self, name: str) -> Any:
        import time

        return getattr(time, name)


class Polling:
    """A consumer of a private queue on Dramatiq's Redis broker, with its sleeps recorded and a clock set by hand."""

    def __init__(self, queue: str, monkeypatch: pytest.MonkeyPatch) -> None:
        self.queue, self.sleeps, self.now = queue, Sleeps(), 1000.0
        monkeypatch.setattr(dramatiq_redis, "time", self.sleeps)
        monkeypatch.setattr(redis_broker, "monotonic", lambda: self.now)
        self.broker = BriskRedisBroker(url=BROKER_URLS["redis"])
        self.broker.declare_queue(queue)

    def empty_asks(self, consumer: Any, count: int) -> list[float]:
        """Ask ``count`` times, finding nothing each time; the sleeps taken after each ask, in ms."""
        self.sleeps.taken.clear()
        assert [next(consumer) for _ in range(count)] == [None] * count
        return self.sleeps.taken


@pytest.fixture
def polling(monkeypatch: pytest.MonkeyPatch) -> Any:
    require_service("redis")
    kit = Polling(f"leadhub_test_{uuid.uuid4().hex[:10]}", monkeypatch)
    yield kit
    kit.broker.close()
    forget_queue("redis", BROKER_URLS["redis"], kit.queue)


def test_polls_briskly_for_a_second_after_a_message_then_often_for_a_minute_then_backs_off(polling: Polling) -> None:
    consumer = polling.broker.consume(polling.queue, prefetch=4, timeout=200)
    # Quiet from the start: Dramatiq's own backoff, up to the 200 ms timeout.
    assert polling.empty_asks(consumer, 6)[-1] >= 100
    polling.broker.enqueue(dramatiq.Message(queue_name=polling.queue, actor_name="leadhub_deliver", args=([1],),
                                            kwargs={}, options={}))
    message = next(consumer)
    assert message is not None and message.args == ([1],)
    consumer.ack(message)
    polling.now += 0.5  # within a second of a message: every 2-4 ms
    assert max(polling.empty_asks(consumer, 20)) <= BUSY_MAX_SLEEP_MS
    polling.now += 0.6  # a quiet second later: every 10-20 ms
    assert BUSY_MAX_SLEEP_MS < max(polling.empty_asks(consumer, 8)) <= WARM_MAX_SLEEP_MS
    polling.now += 60  # a quiet minute later: back to the long sleeps
    assert polling.empty_asks(consumer, 1)[0] >= 100


def test_the_queue_of_delayed_retries_keeps_the_long_backoff_after_a_second(polling: Polling) -> None:
    consumer = polling.broker.consume(dq_name(polling.queue), prefetch=4, timeout=200)
    consumer.last_message = polling.now - 2  # a message two seconds ago
    assert polling.empty_asks(consumer, 7)[-1] >= 100
