"""Dramatiq's Redis broker, asking for messages every few milliseconds while dispatches flow.

Redis does not push: Dramatiq's consumer asks it for messages and, finding none,
sleeps 5-10 ms, then twice as long after each empty answer, up to the worker
timeout (200 ms here). With leads trickling in, a message often waited tens of
milliseconds for the next ask (webhook-to-buyer p99 over 100 ms at 200
leads/s), and the first leads after a pause of a second or more up to 200 ms.
So the consumer sleeps 2-4 ms between asks while messages came in the last
second, and at most 20 ms on the queue of new dispatches for a minute after
that (measured on a worker with nothing to do: 4.7 % of a core asking every
20 ms, 1.5 % with the long backoff). After a quiet minute, and always on the
queue of delayed retries, Dramatiq's own backoff applies.
"""

from __future__ import annotations

from time import monotonic

from dramatiq.broker import MessageProxy
from dramatiq.brokers.redis import RedisBroker, _RedisConsumer
from dramatiq.common import q_name

BUSY_SECONDS = 1.0  # how long after a message the consumer keeps asking briskly
BUSY_MAX_SLEEP_MS = 4  # the longest sleep between asks meanwhile (Dramatiq sleeps half to all of it)
WARM_SECONDS = 60.0  # how long after a message new dispatches are still asked for often
WARM_MAX_SLEEP_MS = 20  # the longest sleep between asks for new dispatches meanwhile


class BriskRedisConsumer(_RedisConsumer):
    def __init__(self, broker: RedisBroker, queue_name: str, prefetch: int, timeout: int) -> None:
        super().__init__(broker, queue_name, prefetch, timeout)
        self.idle_timeout = timeout
        self.warm_timeout = min(timeout, WARM_MAX_SLEEP_MS) if q_name(queue_name) == queue_name else timeout
        self.last_message = float("-inf")

    def __next__(self) -> MessageProxy | None:
        # Dramatiq's __next__ reads self.timeout as the ceiling of its sleep when it finds nothing.
        quiet = monotonic() - self.last_message
        self.timeout = (BUSY_MAX_SLEEP_MS if quiet < BUSY_SECONDS
                        else self.warm_timeout if quiet < WARM_SECONDS else self.idle_timeout)
        message = super().__next__()
        if message is not None:
            self.last_message = monotonic()
        return message


class BriskRedisBroker(RedisBroker):
    """A RedisBroker whose consumers are :class:`BriskRedisConsumer`."""

    @property
    def consumer_class(self) -> type[BriskRedisConsumer]:
        return BriskRedisConsumer
