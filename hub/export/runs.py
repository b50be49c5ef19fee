"""Export runs: create one (scheduled, manual or re-run), build its file, hand it to the transport."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Text, cast, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from hub import metrics
from hub.delivery.retry import backoff_seconds
from hub.export.files import describe_file, write_rows, zip_with_password
from hub.export.rows import plan_rows
from hub.export.zipstream import write_csv_zip
from hub.mapping.engine import parse_rules
from hub.mapping.filters import compile_filter
from hub.mapping.templates import TemplateError, render
from hub.models import Buyer, Export, ExportRun, ExportSource, Lead, Source, utcnow
from hub.plugins.configs import ConfigErrors
from hub.plugins.contract import ExportContext, Outcome, TransportResult
from hub.runtime import Hub
from hub.secrets import SecretError

log = logging.getLogger("leadhub.export")

FINAL = ("succeeded", "failed")
FETCH_ROWS = 2000  # leads per fetch: few round trips, memory flat


def window_start(session: Session, export: Export) -> datetime:
    """Where the next scheduled window begins: the end of the last successful scheduled run."""
    end = session.execute(
        select(ExportRun.window_end)
        .where(ExportRun.export_id == export.id, ExportRun.kind == "scheduled", ExportRun.status == "succeeded")
        .order_by(ExportRun.window_end.desc())
        .limit(1)
    ).scalar_one_or_none()
    return end or export.created_at


def create_run(session: Session, export: Export, *, kind: str, window: tuple[datetime, datetime],
               fire_time: datetime | None = None, rerun_of: int | None = None) -> ExportRun | None:
    """Insert a run; None if a scheduled run for this fire time already exists (another scheduler won)."""
    key = f"{export.id}@{fire_time.isoformat()}" if kind == "scheduled" and fire_time else f"{kind}-{uuid.uuid4()}"
    run = ExportRun(export_id=export.id, run_key=key, kind=kind, fire_time=fire_time, rerun_of=rerun_of,
                    window_start=window[0], window_end=window[1])
    session.add(run)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        return None
    return run


def claim_run(session: Session, run_id: int, lease_seconds: float) -> bool:
    now = utcnow()
    table = ExportRun.__table__
    result = session.execute(
        update(table)
        .where(table.c.id == run_id, table.c.status.in_(("pending", "retrying")),
               (table.c.leased_until.is_(None)) | (table.c.leased_until < now),
               (table.c.next_attempt_at.is_(None)) | (table.c.next_attempt_at <= now))
        .values(status="running", leased_until=now + timedelta(seconds=lease_seconds),
                attempts=table.c.attempts + 1, started_at=now)
    )
    session.commit()
    return result.rowcount == 1


def safe_filename(name: str, fallback: str) -> str:
    """A file name a buyer's system accepts: no folders, no control or shell-hostile characters."""
    name = re.sub(r"[^A-Za-z0-9._ -]+", "-", name.replace("/", "-").replace("\\", "-")).strip(" .-")
    return name[:150] or fallback


def write_file(data_file: Path, export: Export, password: str, columns: list[str],
               rows: Iterator[Sequence[Any]]) -> tuple[Path, int]:
    """Write a run's file; with a password, an AES ZIP of it instead. Returns (the file, the row count)."""
    options = {"delimiter": export.delimiter, "header": export.header}
    if not password:
        return data_file, write_rows(data_file, export.format, columns, rows, **options)
    zipped = data_file.with_suffix(".zip")
    if export.format == "csv":  # zipped while it is written, in a second thread
        count = write_csv_zip(data_file, zipped, password, data_file.name, columns, rows, **options)
    else:
        count = write_rows(data_file, export.format, columns, rows, **options)
        zip_with_password(data_file, zipped, password, data_file.name)
    data_file.unlink()
    return zipped, count


class ExportRunner:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    def execute(self, run_id: int) -> ExportRun | None:
        """Build and send one run if it is due and unclaimed; returns it afterwards."""
        with Session(self.hub.engine, expire_on_commit=False) as session:
            if not claim_run(session, run_id, lease_seconds=max(self.hub.settings.lease_seconds, 1800)):
                return None
            run = session.get(ExportRun, run_id)
            export = session.get(Export, run.export_id)
            buyer = session.get(Buyer, export.buyer_id) if export.buyer_id else None
        clock = time.perf_counter()
        try:
            result, written = self._build_and_send(run, export, buyer)
        except Exception as exc:  # a transport bug must not kill the scheduler or lose the run
            log.exception("export %s run %s raised", export.slug, run_id)
            result, written = TransportResult(outcome=Outcome.FAILED, message=f"{type(exc).__name__}: {exc}"), None
        return self._record(run, export, result, written, (time.perf_counter() - clock) * 1000)

    def _build_and_send(self, run: ExportRun, export: Export, buyer: Buyer | None) -> tuple[TransportResult, Any]:
        try:
            transport = self.hub.registry.transport(export.transport)
            config, masker = self.hub.runtime_config(transport.Config, export.config)
            password = self.hub.open_secret(export.zip_password) if export.zip_password else ""
        except LookupError as exc:
            return TransportResult(outcome=Outcome.FAILED, message=str(exc).strip("'\"")), None
        except (SecretError, ConfigErrors) as exc:
            return TransportResult(outcome=Outcome.FAILED, message=f"export settings: {exc}"), None
        names = self._names(run, export, buyer)
        folder = self.hub.settings.data_dir / "exports" / str(run.id)
        folder.mkdir(parents=True, exist_ok=True)
        data_file = folder / names["filename"]
        columns, rows = self._rows(run, export)
        final, count = write_file(data_file, export, password, columns, rows)
        written = describe_file(final, count)
        variables = {**names, "filename": final.name, "row_count": count,
                     "download_url": f"{self.hub.settings.base_url}/downloads/{run.id}"}
        ctx = ExportContext(
            config=config, path=final, filename=final.name,
            buyer={"slug": buyer.slug, "name": buyer.name, "contact_email": buyer.contact_email} if buyer else {},
            export=export.slug, run_id=run.id, row_count=count, download_url=variables["download_url"],
            render=lambda template: render(template, variables),
            state_dir=self._state_dir(export.transport),
        )
        try:
            result = transport.send(ctx)
        except Exception as exc:  # a transport bug: its text may hold a secret, so it is masked like a result
            log.error("export %s run %s: transport %s raised\n%s", export.slug, run.id, export.transport,
                      masker.current_traceback())
            result = TransportResult(outcome=Outcome.FAILED, message=f"{type(exc).__name__}: {exc}")
        if not isinstance(result, TransportResult):
            result = TransportResult(outcome=Outcome.FAILED, message=f"transport returned {type(result).__name__}")
        result.message = masker.text(result.message)
        return result, written

    def _state_dir(self, transport: str) -> Path:
        folder = self.hub.settings.data_dir / "plugin-state" / transport
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def _names(self, run: ExportRun, export: Export, buyer: Buyer | None) -> dict[str, Any]:
        local = (run.fire_time or run.window_end).astimezone(ZoneInfo(export.timezone))
        names: dict[str, Any] = {"date": local.strftime("%Y-%m-%d"), "time": local.strftime("%H%M"),
                                 "buyer": buyer.slug if buyer else "", "export": export.slug, "run": run.id}
        fallback = f"{export.slug}-{names['date']}.{export.format}"
        try:
            rendered = render(export.filename, names) if export.filename else fallback
        except TemplateError:
            rendered = fallback
        name = safe_filename(rendered, fallback)
        if not name.lower().endswith(f".{export.format}"):
            name += f".{export.format}"
        names["filename"] = name
        return names

    def _rows(self, run: ExportRun, export: Export) -> tuple[list[str], Iterator[Sequence[Any]]]:
        rules = parse_rules(export.mapping)
        with Session(self.hub.engine) as session:
            sources = list(session.execute(
                select(Source).join(ExportSource, ExportSource.source_id == Source.id)
                .where(ExportSource.export_id == export.id)).scalars())
        if rules:
            columns = [rule.target for rule in rules]
        else:  # no mapping: every field of the sources, in spec order
            columns = list(dict.fromkeys(f["name"] for s in sources for f in s.fields))
        lead_filter = compile_filter(export.filter or "")
        has_filter = bool((export.filter or "").strip())
        plan = plan_rows(rules, columns, self.hub.registry.transforms, whole_lead=has_filter)
        source_ids = [s.id for s in sources]
        # The JSON as text, decoded by the plan (often into just the mapped fields), not per row by the ORM.
        query = (select(cast(Lead.fields, Text))
                 .where(Lead.source_id.in_(source_ids), Lead.status == "accepted",
                        Lead.received_at >= run.window_start, Lead.received_at < run.window_end)
                 .order_by(Lead.id))

        def rows() -> Iterator[Sequence[Any]]:
            # A server-side cursor on PostgreSQL; SQLite steps through the result lazily.
            with self.hub.engine.connect() as conn:
                result = conn.execution_options(yield_per=FETCH_ROWS, stream_results=True).execute(query)
                leads = map(plan.decode, result.scalars())  # map and filter: no Python loop per lead
                if has_filter:
                    leads = filter(lead_filter.matches, leads)
                yield from map(plan.cells, leads)

        return columns, rows()

    def _record(self, run: ExportRun, export: Export, result: TransportResult, written: Any,
                duration_ms: float) -> ExportRun:
        now = utcnow()
        values: dict[str, Any] = {"leased_until": None, "finished_at": now, "duration_ms": round(duration_ms, 1),
                                  "message": result.message[:2000], "location": result.location}
        if written is not None:
            values.update(row_count=written.rows, byte_size=written.size, sha256=written.sha256,
                          file_path=str(written.path), filename=written.path.name)
        if result.outcome == Outcome.ACCEPTED:
            values.update(status="succeeded", next_attempt_at=None)
        elif result.outcome == Outcome.FAILED and run.attempts < export.max_attempts:
            delay = backoff_seconds(run.attempts, base=self.hub.settings.retry_base_seconds * 3)
            values.update(status="retrying", next_attempt_at=now + timedelta(seconds=delay))
        else:
            values.update(status="failed", next_attempt_at=None)
        metrics.EXPORT_RUNS.labels(export.slug, values["status"]).inc()
        with Session(self.hub.engine, expire_on_commit=False) as session:
            session.execute(update(ExportRun.__table__).where(ExportRun.__table__.c.id == run.id).values(**values))
            session.commit()
            return session.get(ExportRun, run.id)


def run_now(hub: Hub, slug: str) -> ExportRun:
    """A manual run over the leads since the last scheduled success; the schedule's window is untouched."""
    with Session(hub.engine, expire_on_commit=False) as session:
        export = session.execute(select(Export).where(Export.slug == slug)).scalar_one_or_none()
        if export is None:
            raise LookupError(f"no export '{slug}'")
        return create_run(session, export, kind="manual", window=(window_start(session, export), utcnow()))


def rerun(hub: Hub, run_id: int) -> ExportRun:
    """A new run over exactly the window of a past run (e.g. after the buyer lost the file)."""
    with Session(hub.engine, expire_on_commit=False) as session:
        past = session.get(ExportRun, run_id)
        if past is None:
            raise LookupError(f"no export run {run_id}")
        export = session.get(Export, past.export_id)
        return create_run(session, export, kind="rerun", window=(past.window_start, past.window_end),
                          rerun_of=past.id, fire_time=past.fire_time)
