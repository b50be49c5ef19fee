"""Prometheus metrics: what came in, what went out, what is waiting (scraped at /metrics)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from hub.models import RETRYABLE, Delivery, Dispatch

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
# Read from the database at each scrape: the attempt counters above live in whichever process ran the
# try (a `leadhub worker`, or the embedded default's worker child), which this endpoint cannot see.
DISPATCHES = Gauge("leadhub_dispatches", "Dispatches by delivery, channel and status, from the database",
                   ["delivery", "channel", "status"], registry=REGISTRY)


def render(engine: Engine) -> bytes:
    """The exposition text, with dispatch counts and the queue depth read from the database (the record)."""
    with Session(engine) as session:
        counts = session.execute(
            select(Delivery.slug, Delivery.channel, Dispatch.status, func.count())
            .join(Delivery, Delivery.id == Dispatch.delivery_id)
            .group_by(Delivery.slug, Delivery.channel, Dispatch.status)
        ).all()
    DISPATCHES.clear()
    for slug, channel, status, count in counts:
        DISPATCHES.labels(slug, channel, status).set(count)
    WAITING.set(sum(count for *_, status, count in counts if status in RETRYABLE))
    return generate_latest(REGISTRY)
