"""Prometheus metrics: what came in, what went out, what is waiting (scraped at /metrics)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from hub.models import RETRYABLE, Dispatch

# One registry per process; several hubs in one test process share it, which is harmless for counters.
REGISTRY = CollectorRegistry()
LEADS = Counter("leadhub_leads_total", "Leads answered by the webhook", ["source", "outcome"], registry=REGISTRY)
INTAKE_SECONDS = Histogram("leadhub_intake_seconds", "Time to validate and store a lead", registry=REGISTRY,
                           buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0))
ATTEMPTS = Counter("leadhub_attempts_total", "Delivery attempts by outcome", ["delivery", "channel", "outcome"],
                   registry=REGISTRY)
EXPORT_RUNS = Counter("leadhub_export_runs_total", "Export runs by final status", ["export", "status"],
                      registry=REGISTRY)
WAITING = Gauge("leadhub_dispatches_waiting", "Dispatches pending or failed and waiting for a try", registry=REGISTRY)


def render(engine: Engine) -> bytes:
    """The exposition text, with the queue depth read from the database (the record, not the broker)."""
    with Session(engine) as session:
        WAITING.set(session.execute(select(func.count()).select_from(Dispatch)
                                    .where(Dispatch.status.in_(RETRYABLE))).scalar_one())
    return generate_latest(REGISTRY)
