"""The Redis consumer asks every few milliseconds while messages flow, and backs off as Dramatiq does when quiet."""

from __future__ import annotations

import uuid
from typing import Any

import dramatiq
import dramatiq.brokers.redis as dramatiq_redis
import pytest

from hub.delivery import redis_broker
from hub.delivery.redis_broker import BUSY_MAX_SLEEP_MS, BriskRedisBroker
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


@pytest.fixture
def queue() -> Any:
    require_service("redis")
    name = f"leadhub_test_{uuid.uuid4().hex[:10]}"
    yield name
    forget_queue("redis", BROKER_URLS["redis"], name)


def test_polls_briskly_for_a_second_after_a_message_then_backs_off(queue, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    sleeps, clock = Sleeps(), [1000.0]
    monkeypatch.setattr(dramatiq_redis, "time", sleeps)
    monkeypatch.setattr(redis_broker, "monotonic", lambda: clock[0])
    broker = BriskRedisBroker(url=BROKER_URLS["redis"])
    broker.declare_queue(queue)
    consumer = broker.consume(queue, prefetch=4, timeout=200)

    def empty_asks(count: int) -> list[float]:
        sleeps.taken.clear()
        assert [next(consumer) for _ in range(count)] == [None] * count
        return sleeps.taken

    assert empty_asks(6)[-1] >= 100  # quiet from the start: Dramatiq's own backoff, up to the 200 ms timeout
    broker.enqueue(dramatiq.Message(queue_name=queue, actor_name="leadhub_deliver", args=([1],), kwargs={},
                                    options={}))
    message = next(consumer)
    assert message is not None and message.args == ([1],)
    consumer.ack(message)
    clock[0] += 0.5
    assert max(empty_asks(20)) <= BUSY_MAX_SLEEP_MS  # within a second of a message: every 2-4 ms
    clock[0] += 0.6
    assert empty_asks(1)[0] >= 100  # a quiet second later: back to the long sleeps
    broker.close()
