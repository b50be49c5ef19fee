"""The delivery machinery of one process: broker, the generic actor, worker threads and sweeper."""

from __future__ import annotations

import logging

import dramatiq
import httpx

from hub.delivery.broker import DispatchQueue, build_broker
from hub.delivery.runner import DeliveryRunner
from hub.delivery.sweeper import Sweeper
from hub.runtime import Hub

log = logging.getLogger("leadhub.delivery")


def make_http_client(threads: int) -> httpx.Client:
    """The one pooled client every channel in this process shares (STACK-NOTES: sync httpx, shared)."""
    return httpx.Client(
        limits=httpx.Limits(max_connections=threads * 4, max_keepalive_connections=threads * 4),
        timeout=httpx.Timeout(30.0),
        follow_redirects=False,
    )


class DeliveryService:
    """Sends dispatch ids to the broker; with :meth:`start_worker`, also runs them."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.broker = build_broker(hub.settings)
        self.http = make_http_client(hub.settings.worker_threads)
        self.runner = DeliveryRunner(hub, self.http, self.enqueue)
        self.queue = DispatchQueue(self.broker, self.runner.run, time_limit_ms=int(hub.settings.lease_seconds * 1000),
                                   queue_name=hub.settings.queue_name)
        self.worker: dramatiq.Worker | None = None
        self.sweeper: Sweeper | None = None

    def enqueue(self, dispatch_ids: list[int], delay_seconds: float | None = None) -> None:
        """Send after commit; a broker failure is logged, not raised: the sweeper will resend."""
        try:
            self.queue.send(dispatch_ids, delay_seconds)
        except Exception:
            log.exception("broker send failed for dispatches %s; the sweeper will resend them", dispatch_ids)

    def start_worker(self, *, sweeper: bool = True) -> None:
        self.worker = dramatiq.Worker(self.broker, worker_threads=self.hub.settings.worker_threads, worker_timeout=200)
        self.worker.start()
        if sweeper:
            settings = self.hub.settings
            self.sweeper = Sweeper(self.hub.engine, self.enqueue, settings.sweep_interval, settings.sweep_grace,
                                   first_grace=0.0 if settings.embedded_broker else settings.sweep_grace)
            self.sweeper.start()

    def stop(self) -> None:
        if self.sweeper is not None:
            self.sweeper.stop()
            self.sweeper.join(timeout=5)
        if self.worker is not None:
            self.worker.stop(timeout=10_000)
        self.runner.close()
        self.broker.close()
        self.http.close()
