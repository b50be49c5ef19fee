"""The Dramatiq broker and the one generic actor that runs every channel.

Embedded (no HUB_BROKER_URL): a StubBroker with an in-process Worker. Redis or
RabbitMQ: the real brokers, with `leadhub worker` processes. A message carries
dispatch ids only, up to ``BATCH`` of them (the leads one commit stored, or one
sweep found); the dispatch row is the record, so a lost message costs a sweep
interval, never a lead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import dramatiq
from dramatiq.brokers.stub import StubBroker

from hub.settings import Settings

ACTOR = "leadhub_deliver"
BATCH = 50  # dispatch ids per message: claimed a chunk at a time (runner.ClaimSlots), still spread over workers


def build_broker(settings: Settings) -> dramatiq.Broker:
    url = settings.broker_url
    if settings.embedded_broker:
        broker: dramatiq.Broker = StubBroker()
        # Time limits and other middleware only start after process_boot (STACK-NOTES).
        broker.emit_after("process_boot")
    elif url.startswith(("redis://", "rediss://")):
        from hub.delivery.redis_broker import BriskRedisBroker

        broker = BriskRedisBroker(url=url)
    else:
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        broker = RabbitmqBroker(url=url)
    return broker


class DispatchQueue:
    """Sends dispatch ids to the generic delivery actor."""

    def __init__(self, broker: dramatiq.Broker, handler: Callable[[list[int]], object], time_limit_ms: int,
                 queue_name: str) -> None:
        self.broker = broker

        def deliver(dispatch_ids: list[int] | int) -> None:  # returns nothing: Dramatiq would warn about a result
            # A single id is a message from a release that sent one id per message.
            handler([dispatch_ids] if isinstance(dispatch_ids, int) else dispatch_ids)

        self.actor = dramatiq.actor(
            deliver,
            broker=broker,
            actor_name=ACTOR,
            queue_name=queue_name,
            max_retries=0,  # retries live in the dispatch row, not in the broker
            time_limit=time_limit_ms,
        )

    def send(self, dispatch_ids: Iterable[int], delay_seconds: float | None = None) -> None:
        delay = int(delay_seconds * 1000) if delay_seconds else None
        ids = list(dispatch_ids)
        for start in range(0, len(ids), BATCH):
            self.actor.send_with_options(args=(ids[start:start + BATCH],), delay=delay)
