"""Leads: search and filter with keyset paging, the lead's dispatches and attempts, replay."""

from __future__ import annotations

from datetime import datetime, time, timezone

from litestar import get, post
from litestar.datastructures import State
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy import String, cast, select
from sqlmodel import Session

from hub.delivery.records import lead_record
from hub.delivery.replay import replay
from hub.models import Dispatch, Lead, Source
from hub.web.admin.common import AdminController
from hub.web.pages import page

PAGE = 50


def _day(text: str | None, end: bool = False) -> datetime | None:
    try:
        day = datetime.strptime(text or "", "%Y-%m-%d").date()
    except ValueError:
        return None
    return datetime.combine(day, time.max if end else time.min, tzinfo=timezone.utc)


class AdminLeads(AdminController):
    path = "/admin/leads"

    @get("/", sync_to_thread=True)
    def index(self, state: State, source: FromQuery[str] = "", status: FromQuery[str] = "",
              text: FromQuery[str] = "", since: FromQuery[str] = "", until: FromQuery[str] = "",
              before: FromQuery[int | None] = None) -> Template:
        # Keyset paging on the primary key stays fast however many leads there are.
        query = (select(Lead.id, Lead.received_at, Lead.status, Lead.fields, Source.slug)
                 .join(Source, Source.id == Lead.source_id).order_by(Lead.id.desc()).limit(PAGE + 1))
        if before:
            query = query.where(Lead.id < before)
        if source:
            query = query.where(Source.slug == source)
        if status in ("accepted", "duplicate"):
            query = query.where(Lead.status == status)
        if status in ("failed", "dead", "rejected", "pending"):
            query = query.where(Lead.id.in_(select(Dispatch.lead_id).where(Dispatch.status == status)))
        if (start := _day(since)) is not None:
            query = query.where(Lead.received_at >= start)
        if (end := _day(until, end=True)) is not None:
            query = query.where(Lead.received_at <= end)
        if text.strip():
            query = query.where(cast(Lead.fields, String).ilike(f"%{text.strip()}%"))
        with Session(state.hub.engine) as session:
            rows = session.execute(query).all()
            sources = list(session.execute(select(Source.slug).order_by(Source.slug)).scalars())
        more = len(rows) > PAGE
        rows = rows[:PAGE]
        return page("admin/leads.html", rows=rows, sources=sources, more=more, next_before=rows[-1][0] if rows else None,
                    filters={"source": source, "status": status, "text": text, "since": since, "until": until})

    @get("/{lead_id:int}", sync_to_thread=True)
    def detail(self, lead_id: FromPath[int], state: State, replayed: FromQuery[int] = 0) -> Template:
        with Session(state.hub.engine) as session:
            record = lead_record(session, lead_id)
        if record is None:
            return page("message.html", 404, heading="Not found", text=f"There is no lead {lead_id}.")
        flashes = [f"Replaying {replayed} dispatch(es)."] if replayed else []
        return page("admin/lead.html", lead=record, flashes=flashes)

    @post("/{lead_id:int}/replay/{dispatch_id:int}", sync_to_thread=True)
    def replay_dispatch(self, lead_id: FromPath[int], dispatch_id: FromPath[int], state: State) -> Redirect:
        ids = replay(state.hub.engine, [dispatch_id])
        state.service.enqueue(ids, None)
        return Redirect(f"/admin/leads/{lead_id}?replayed={len(ids)}")
