"""Exports: schedule with its next fire times as you type, the transport's generated form, run now, history."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import anyio.to_thread
from cron_descriptor import get_description
from litestar import Request, get, post
from litestar.datastructures import State
from litestar.params import FromPath, FromQuery
from litestar.response import File, Redirect, Template
from sqlalchemy import select
from sqlmodel import Session

from hub.export.runs import ExportRunner, rerun, run_now
from hub.export.schedule import next_fire_times, schedule_errors
from hub.models import Buyer, Export, ExportRun, ExportSource, Source, utcnow
from hub.plugins.configs import config_schema, mask_config
from hub.runtime import Hub
from hub.secrets import MASK
from hub.web.admin.common import AdminController, choices, flash, form_list, pop_flash, save
from hub.web.admin.mapping_form import rows_from_rules, rules_from_form
from hub.web.forms import build_form, read_form
from hub.web.pages import page


def schedule_preview(cron: str, tz: str) -> dict[str, Any]:
    """Plain words and the next five fire times in the schedule's own time zone."""
    problems = schedule_errors(cron, tz)
    if problems:
        return {"error": "; ".join(problems.values()), "times": [], "words": ""}
    from zoneinfo import ZoneInfo

    times = [t.astimezone(ZoneInfo(tz)).strftime("%a %d %b %Y %H:%M %Z") for t in next_fire_times(cron, tz, utcnow())]
    try:
        words = get_description(cron)
    except Exception:  # noqa: BLE001 - the words are a courtesy; the times are the truth
        words = ""
    return {"error": "", "times": times, "words": words}


def _entry_from_form(hub: Hub, form: Any) -> dict[str, Any]:
    transport = hub.registry.transport(form.get("transport", ""))
    entry: dict[str, Any] = {
        "slug": form.get("slug", "").strip(), "name": form.get("name", "").strip(), "transport": transport.name,
        "buyer": form.get("buyer") or None, "sources": form_list(form, "sources"),
        "schedule": form.get("schedule", "").strip(), "timezone": form.get("timezone", "UTC").strip(),
        "format": form.get("format", "csv"), "filename": form.get("filename", ""), "filter": form.get("filter", ""),
        "zip_password": form.get("zip_password") or (MASK if form.get("keep_zip_password") == "1" else ""),
        "enabled": form.get("enabled") == "on",
        "config": read_form(config_schema(transport.Config), dict(form.items())),
        "mapping": rules_from_form(form_list(form, "map_target"), form_list(form, "map_kind"),
                                   form_list(form, "map_value"), form_list(form, "map_transforms")),
    }
    return {k: v for k, v in entry.items() if v is not None}


def _form_page(hub: Hub, entry: dict[str, Any], errors: dict[str, str], is_new: bool, status: int = 200,
               flash_message: str = "", runs: list[Any] | None = None) -> Template:
    transport = hub.registry.transport(entry["transport"])
    config_errors = {k.removeprefix("config."): v for k, v in errors.items() if k.startswith("config.")}
    return page("admin/export_form.html", status, entry=entry, errors=errors, is_new=is_new, transport=transport,
                fields=build_form(config_schema(transport.Config), entry.get("config", {}), config_errors),
                rows=rows_from_rules(entry.get("mapping", [])), transforms=sorted(hub.registry.transforms),
                preview=schedule_preview(entry.get("schedule", "0 9 * * *"), entry.get("timezone", "UTC")),
                runs=runs or [], flashes=[flash_message] if flash_message else [], **choices(hub))


class AdminExports(AdminController):
    path = "/admin/exports"

    @get("/", sync_to_thread=True)
    def index(self, state: State) -> Template:
        with Session(state.hub.engine) as session:
            rows = session.execute(select(Export, Buyer.slug).outerjoin(Buyer, Buyer.id == Export.buyer_id)
                                   .order_by(Export.slug)).all()
        return page("admin/exports.html", exports=rows, transports=state.hub.registry.transports)

    @get("/new", sync_to_thread=False)
    def new(self, state: State, transport: FromQuery[str | None] = None) -> Template:
        if transport not in state.hub.registry.transports:
            return page("admin/export_pick.html", transports=state.hub.registry.transports)
        entry = {"transport": transport, "schedule": "0 9 * * *", "timezone": "UTC", "format": "csv",
                 "enabled": True, "config": {}, "mapping": []}
        return _form_page(state.hub, entry, {}, True)

    @get("/schedule-preview", sync_to_thread=False)
    def preview(self, schedule: FromQuery[str] = "", timezone: FromQuery[str] = "UTC") -> Template:
        return page("admin/_schedule.html", preview=schedule_preview(schedule, timezone))

    @get("/{slug:str}", sync_to_thread=True)
    def edit(self, slug: FromPath[str], request: Request, state: State) -> Template:
        hub: Hub = state.hub
        with Session(hub.engine) as session:
            export = session.execute(select(Export).where(Export.slug == slug)).scalar_one_or_none()
            if export is None:
                return page("message.html", 404, heading="Not found", text=f"There is no export '{slug}'.")
            buyer = session.get(Buyer, export.buyer_id) if export.buyer_id else None
            sources = list(session.execute(select(Source.slug).join(ExportSource, ExportSource.source_id == Source.id)
                                           .where(ExportSource.export_id == export.id)).scalars())
            runs = list(session.execute(select(ExportRun).where(ExportRun.export_id == export.id)
                                        .order_by(ExportRun.id.desc()).limit(30)).scalars())
        cls = hub.registry.transport(export.transport).Config
        entry = {"slug": export.slug, "name": export.name, "transport": export.transport,
                 "buyer": buyer.slug if buyer else None, "sources": sources, "schedule": export.schedule,
                 "timezone": export.timezone, "format": export.format, "filename": export.filename,
                 "filter": export.filter, "enabled": export.enabled, "has_zip_password": bool(export.zip_password),
                 "config": mask_config(cls, export.config), "mapping": export.mapping}
        return _form_page(hub, entry, {}, False, flash_message=pop_flash(request), runs=runs)

    @post("/save")
    async def save_export(self, request: Request, state: State) -> Template | Redirect:
        form = await request.form()
        entry = _entry_from_form(state.hub, form)
        errors = await anyio.to_thread.run_sync(partial(save, state.hub, "exports", entry))
        if errors:
            return _form_page(state.hub, entry, errors, form.get("is_new") == "1", status=400)
        flash(request, "Saved.")
        return Redirect(f"/admin/exports/{entry['slug']}")

    @post("/{slug:str}/run")
    async def run(self, slug: FromPath[str], request: Request, state: State) -> Redirect:
        done = await anyio.to_thread.run_sync(partial(_run_now, state.hub, slug))
        flash(request, done)
        return Redirect(f"/admin/exports/{slug}")

    @post("/runs/{run_id:int}/rerun")
    async def rerun_run(self, run_id: FromPath[int], request: Request, state: State) -> Redirect:
        slug, done = await anyio.to_thread.run_sync(partial(_rerun, state.hub, run_id))
        flash(request, done)
        return Redirect(f"/admin/exports/{slug}")

    @get("/runs/{run_id:int}/file", sync_to_thread=True)
    def file(self, run_id: FromPath[int], state: State) -> File | Template:
        with Session(state.hub.engine) as session:
            run = session.get(ExportRun, run_id)
        if run is None or not run.file_path or not Path(run.file_path).exists():
            return page("message.html", 410, heading="Gone", text="This file is no longer kept.")
        return File(path=run.file_path, filename=run.filename, content_disposition_type="attachment")


def _describe(run: ExportRun | None) -> str:
    if run is None:
        return "That run is already being executed."
    return f"Run {run.id}: {run.status}, {run.row_count or 0} leads." + (f" {run.message}" if run.message else "")


def _run_now(hub: Hub, slug: str) -> str:
    return _describe(ExportRunner(hub).execute(run_now(hub, slug).id))


def _rerun(hub: Hub, run_id: int) -> tuple[str, str]:
    run = rerun(hub, run_id)
    with Session(hub.engine) as session:
        slug = session.get(Export, run.export_id).slug
    return slug, _describe(ExportRunner(hub).execute(run.id))
