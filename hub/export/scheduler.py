"""The export scheduler: fire due schedules once, run pending and retrying runs, expire old files.

Several schedulers may run at once (scaled-out deployments): a scheduled run's
unique ``run_key`` lets exactly one of them create it, and the claim on the run
row lets exactly one of them execute it.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update
from sqlmodel import Session

from hub.export.runs import ExportRunner, create_run, window_start
from hub.export.schedule import latest_fire_time, schedule_errors
from hub.models import Export, ExportRun, utcnow
from hub.runtime import Hub

log = logging.getLogger("leadhub.scheduler")


def fire_due(hub: Hub, now: datetime) -> list[int]:
    """Create the run of every export whose latest fire time has no run yet; returns new run ids."""
    created = []
    with Session(hub.engine, expire_on_commit=False) as session:
        exports = list(session.execute(select(Export).where(Export.enabled.is_(True))).scalars())
        for export in exports:
            if not export.schedule or schedule_errors(export.schedule, export.timezone):
                continue
            last_fire = session.execute(
                select(ExportRun.fire_time).where(ExportRun.export_id == export.id, ExportRun.kind == "scheduled")
                .order_by(ExportRun.fire_time.desc()).limit(1)
            ).scalar_one_or_none()
            fire = latest_fire_time(export.schedule, export.timezone, now, after_utc=last_fire or export.created_at)
            if fire is None:
                continue
            run = create_run(session, export, kind="scheduled", fire_time=fire,
                             window=(window_start(session, export), fire))
            if run is not None:
                log.info("export %s fired for %s (run %s)", export.slug, fire, run.id)
                created.append(run.id)
    return created


def due_runs(hub: Hub, now: datetime) -> list[int]:
    with Session(hub.engine) as session:
        return list(session.execute(
            select(ExportRun.id).where(
                ExportRun.status.in_(("pending", "retrying")),
                (ExportRun.next_attempt_at.is_(None)) | (ExportRun.next_attempt_at <= now),
                (ExportRun.leased_until.is_(None)) | (ExportRun.leased_until < now))
            .order_by(ExportRun.id)).scalars())


def expire_files(hub: Hub, now: datetime) -> int:
    """Delete export files older than their export's retention period."""
    removed = 0
    with Session(hub.engine) as session:
        rows = session.execute(
            select(ExportRun.id, ExportRun.file_path, ExportRun.finished_at, Export.retention_days)
            .join(Export, Export.id == ExportRun.export_id)
            .where(ExportRun.file_path.is_not(None))).all()
        for run_id, path, finished, days in rows:
            if finished and finished < now - timedelta(days=days):
                Path(path).unlink(missing_ok=True)
                session.execute(update(ExportRun.__table__).where(ExportRun.__table__.c.id == run_id)
                                .values(file_path=None))
                removed += 1
        session.commit()
    return removed


def tick(hub: Hub, runner: ExportRunner, now: datetime | None = None) -> list[int]:
    """One pass of the scheduler; returns the ids of the runs it executed."""
    now = now or utcnow()
    fire_due(hub, now)
    executed = [run_id for run_id in due_runs(hub, now) if runner.execute(run_id) is not None]
    expire_files(hub, now)
    return executed


class Scheduler(threading.Thread):
    """Ticks every ``interval`` seconds until stopped (inside `serve`, or alone in `leadhub scheduler`)."""

    def __init__(self, hub: Hub, interval: float = 5.0) -> None:
        super().__init__(name="leadhub-scheduler", daemon=True)
        self.hub, self.interval = hub, interval
        self.runner = ExportRunner(hub)
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                tick(self.hub, self.runner)
            except Exception:
                log.exception("scheduler tick failed; trying again in %.0fs", self.interval)
            self.stopping.wait(self.interval)

    def stop(self) -> None:
        self.stopping.set()
