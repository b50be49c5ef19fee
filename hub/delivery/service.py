"""The delivery machinery of one process: broker, the generic actor, worker threads and sweeper."""

from __future__ import annotations

import logging
from typing import Any

import dramatiq
import httpx

from hub.delivery.broker import DispatchQueue, build_broker
from hub.delivery.http_transport import SocketTransport
from hub.delivery.runner import DeliveryRunner
from hub.delivery.sweeper import Sweeper
from hub.delivery.worker_process import WorkerProcess
from hub.runtime import Hub

log = logging.getLogger("leadhub.delivery")


class _NoCookies(httpx.Cookies):
    """An always-empty cookie store that never reads Set-Cookie."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None


class DeliveryClient(httpx.Client):
    """The client every channel in a process shares: it keeps no cookies, so every try stands alone.

    The client is shared by every delivery, so a kept session cookie would ride
    along on other deliveries to the same buyer, even ones with other
    credentials. httpx reads cookies through the public ``cookies`` property;
    an empty store here also skips the urllib-compatible copies of each request
    and answer that httpx builds to parse Set-Cookie (a twelfth of a try's CPU).
    A channel that needs a cookie sends a Cookie header.
    """

    @property
    def cookies(self) -> httpx.Cookies:
        return _NO_COOKIES

    @cookies.setter
    def cookies(self, cookies: Any) -> None:
        if cookies:
            raise ValueError("the shared delivery client keeps no cookies; send a Cookie header instead")


_NO_COOKIES = _NoCookies()


def make_http_client(threads: int) -> httpx.Client:
    """The shared client: httpx's API on a leaner transport (see http_transport)."""
    return DeliveryClient(
        transport=SocketTransport(max_idle_per_origin=threads * 4),
        timeout=httpx.Timeout(30.0),
        follow_redirects=False,
    )


class DeliveryService:
    """Sends dispatch ids to the broker; with :meth:`start_worker`, also runs them.

    With ``worker_process`` (the embedded default under ``leadhub serve``), the
    broker, the delivery threads and the sweeper live in a child process instead
    (see hub.delivery.worker_process), and sending means writing to its stdin.
    """

    def __init__(self, hub: Hub, *, worker_process: bool = False) -> None:
        self.hub = hub
        self.http = make_http_client(hub.settings.worker_threads)
        self.child = WorkerProcess() if worker_process else None
        self.broker = build_broker(hub.settings)
        self.runner = DeliveryRunner(hub, self.http, self.enqueue, threads=hub.settings.worker_threads)
        self.queue = DispatchQueue(self.broker, self.runner.start_batch,
                                   time_limit_ms=int(hub.settings.lease_seconds * 1000),
                                   queue_name=hub.settings.queue_name)
        self.worker: dramatiq.Worker | None = None
        self.sweeper: Sweeper | None = None

    def enqueue(self, dispatch_ids: list[int], delay_seconds: float | None = None) -> None:
        """Send after commit; a broker failure is logged, not raised: the sweeper will resend."""
        try:
            if self.child is not None:
                self.child.send(dispatch_ids, delay_seconds)
            else:
                self.queue.send(dispatch_ids, delay_seconds)
        except Exception:
            log.exception("broker send failed for dispatches %s; the sweeper will resend them", dispatch_ids)

    def start_worker(self, *, sweeper: bool = True) -> None:
        if self.child is not None:
            self.child.start()
            return
        self.worker = dramatiq.Worker(self.broker, worker_threads=self.hub.settings.worker_threads, worker_timeout=200)
        self.worker.start()
        if sweeper:
            settings = self.hub.settings
            self.sweeper = Sweeper(self.hub.engine, self.enqueue, settings.sweep_interval, settings.sweep_grace,
                                   first_grace=0.0 if settings.embedded_broker else settings.sweep_grace)
            self.sweeper.start()

    def broker_status(self) -> str:
        """"ok", or why dispatches cannot be sent now (for /readyz)."""
        if self.child is not None:
            return "ok" if self.child.alive() else "unavailable: the delivery worker process is not running"
        try:
            if hasattr(self.broker, "client"):
                self.broker.client.ping()  # Redis
            elif hasattr(self.broker, "connection"):
                self.broker.connection.process_data_events(0)  # RabbitMQ
        except Exception as exc:  # noqa: BLE001 - any failure means not ready
            return f"unavailable: {type(exc).__name__}"
        return "ok"

    def stop(self) -> None:
        if self.child is not None:
            self.child.stop()
        if self.sweeper is not None:
            self.sweeper.stop()
            self.sweeper.join(timeout=5)
        self.runner.stop_taking()  # queued tries stay due; Dramatiq waits only for those in flight
        if self.worker is not None:
            self.worker.stop(timeout=10_000)
        self.runner.close()
        self.broker.close()
        self.http.close()
