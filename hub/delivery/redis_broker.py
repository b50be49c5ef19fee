"""Dramatiq's Redis broker, asking for messages every few milliseconds while dispatches flow.

Redis does not push: Dramatiq's consumer asks it for messages and, finding none,
sleeps 5-10 ms, then twice as long after each empty answer, up to the worker
timeout. With leads trickling in, a message often waited tens of milliseconds
for the next ask (webhook-to-buyer p99 over 100 ms at 200 leads/s). While
messages came in the last second, this consumer sleeps 2-4 ms between asks;
after a quiet second Dramatiq's own backoff takes over again, so an idle worker
costs Redis no more than before.
"""

from __future__ import annotations

from time import monotonic

from dramatiq.broker import MessageProxy
from dramatiq.brokers.redis import RedisBroker, _RedisConsumer

BUSY_SECONDS = 1.0  # how long after a message the consumer keeps asking briskly
BUSY_MAX_SLEEP_MS = 4  # the longest sleep between asks meanwhile (Dramatiq sleeps half to all of it)


class BriskRedisConsumer(_RedisConsumer):
    def __init__(self, broker: RedisBroker, queue_name: str, prefetch: int, timeout: int) -> None:
        super().__init__(broker, queue_name, prefetch, timeout)
        self.idle_timeout = timeout
        self.busy_until = 0.0

    def __next__(self) -> MessageProxy | None:
        # Dramatiq's __next__ reads self.timeout as the ceiling of its sleep when it finds nothing.
        self.timeout = BUSY_MAX_SLEEP_MS if monotonic() < self.busy_until else self.idle_timeout
        message = super().__next__()
        if message is not None:
            self.busy_until = monotonic() + BUSY_SECONDS
        return message


class BriskRedisBroker(RedisBroker):
    """A RedisBroker whose consumers are :class:`BriskRedisConsumer`."""

    @property
    def consumer_class(self) -> type[BriskRedisConsumer]:
        return BriskRedisConsumer
