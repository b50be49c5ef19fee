"""The Litestar application: webhook intake, the JSON API, the buyer portal, and (embedded) the workers."""

from __future__ import annotations

import anyio.to_thread
from litestar import Litestar, Response, get
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig
from litestar.response import Redirect
from sqlalchemy import text

from hub import __version__, metrics
from hub.delivery.service import DeliveryService
from hub.export.scheduler import Scheduler
from hub.ingestion.intake import Intake
from hub.runtime import Hub
from hub.web.admin.auth import AdminAuth, LoginThrottle, NotSignedIn
from hub.web.admin.common import to_login
from hub.web.admin.deliveries import AdminDeliveries
from hub.web.admin.exports import AdminExports
from hub.web.admin.leads import AdminLeads
from hub.web.admin.overview import AdminOverview
from hub.web.admin.sources import AdminSources
from hub.web.api import ApiV1
from hub.web.buyer_portal import BuyerPortal
from hub.web.errors import EXCEPTION_HANDLERS
from hub.web.pages import csrf_config, session_config, static_router, template_config
from hub.web.webhooks import make_webhook_handler


@get("/healthz", sync_to_thread=False, include_in_schema=False)
def healthz() -> dict[str, str]:
    """The process answers (for restarts)."""
    return {"status": "ok"}


@get("/readyz", sync_to_thread=True, include_in_schema=False)
def readyz(state: State) -> Response[dict[str, str]]:
    """The database and the broker answer (for load balancers): 503 with the reason otherwise."""
    checks = {}
    try:
        with state.hub.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        checks["database"] = f"unavailable: {type(exc).__name__}"
    checks["broker"] = state.service.broker_status()
    ready = all(v == "ok" for v in checks.values())
    return Response({"status": "ready" if ready else "not ready", **checks}, status_code=200 if ready else 503)


@get("/metrics", sync_to_thread=True, include_in_schema=False)
def prometheus(state: State) -> Response[bytes]:
    return Response(metrics.render(state.hub.engine), media_type="text/plain; version=0.0.4")


@get("/", sync_to_thread=False, include_in_schema=False)
def home() -> Redirect:
    return Redirect("/admin")


def create_app(hub: Hub, service: DeliveryService | None = None, *, embedded: bool | None = None) -> Litestar:
    """The web app. ``embedded`` (default: no external broker) also runs delivery and the scheduler."""
    service = service or DeliveryService(hub)
    if embedded is None:
        embedded = hub.settings.embedded_broker
    scheduler = Scheduler(hub, interval=hub.settings.sweep_interval * 2.5)
    intake = Intake(hub, service.enqueue)

    def start() -> None:
        # A few request threads keep the database lock moving; dozens only fight over the GIL.
        anyio.to_thread.current_default_thread_limiter().total_tokens = hub.settings.request_threads
        if embedded:
            service.start_worker()
            scheduler.start()

    def stop() -> None:
        intake.close()  # the leads already answered are committed; this only ends the writer thread
        scheduler.stop()
        service.stop()

    return Litestar(
        route_handlers=[make_webhook_handler(hub.settings.max_body_bytes), ApiV1, BuyerPortal, healthz, readyz,
                        prometheus, home,
                        static_router(), AdminAuth, AdminOverview, AdminSources, AdminDeliveries, AdminLeads,
                        AdminExports],
        state=State({"hub": hub, "service": service, "intake": intake,
                     "login_throttle": LoginThrottle()}),
        on_startup=[start],
        on_shutdown=[stop],
        middleware=[session_config(hub.settings).middleware],
        csrf_config=csrf_config(hub.settings),
        template_config=template_config(),
        exception_handlers={**EXCEPTION_HANDLERS, NotSignedIn: to_login},  # type: ignore[arg-type]
        openapi_config=OpenAPIConfig(title="Leadhub", version=__version__, path="/schema"),
        logging_config=None,  # Litestar's default would replace the handlers hub.logs set up (JSON lines)
    )
