"""Deliveries: pick a channel, fill its generated form, build the mapping with a live preview, send a test."""

from __future__ import annotations

from functools import partial
from typing import Any

import anyio.to_thread
import msgspec
from litestar import Request, get, post
from litestar.datastructures import State
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlmodel import Session

from hub.delivery.runner import DeliveryRunner
from hub.mapping.engine import parse_rules, preview
from hub.mapping.templates import render
from hub.models import Buyer, Delivery, DeliverySource, Lead, Source
from hub.plugins.configs import config_schema, mask_config
from hub.runtime import Hub
from hub.web.admin.common import AdminController, choices, flash, form_list, pop_flash, save
from hub.web.admin.mapping_form import rows_from_rules, rules_from_form, sample_lead
from hub.web.forms import build_form, read_form
from hub.web.pages import page


def _stored(hub: Hub, slug: str) -> tuple[Delivery | None, str | None, list[str]]:
    with Session(hub.engine) as session:
        delivery = session.execute(select(Delivery).where(Delivery.slug == slug)).scalar_one_or_none()
        if delivery is None:
            return None, None, []
        buyer = session.get(Buyer, delivery.buyer_id) if delivery.buyer_id else None
        sources = list(session.execute(select(Source.slug).join(DeliverySource, DeliverySource.source_id == Source.id)
                                       .where(DeliverySource.delivery_id == delivery.id)).scalars())
        return delivery, buyer.slug if buyer else None, sources


def _recent_leads(hub: Hub, sources: list[str], limit: int = 20) -> list[dict[str, Any]]:
    with Session(hub.engine) as session:
        rows = session.execute(select(Lead.id, Lead.fields, Source.slug).join(Source, Source.id == Lead.source_id)
                               .where(Source.slug.in_(sources)).order_by(Lead.id.desc()).limit(limit)).all()
    return [{"id": i, "label": f"#{i} from {s}: " + ", ".join(f"{k}={v}" for k, v in list(f.items())[:3]),
             "fields": f} for i, f, s in rows]


def _entry_from_form(hub: Hub, form: Any) -> dict[str, Any]:
    channel = hub.registry.channel(form.get("channel", ""))
    entry: dict[str, Any] = {
        "slug": form.get("slug", "").strip(), "name": form.get("name", "").strip(), "channel": channel.name,
        "buyer": form.get("buyer") or None, "sources": form_list(form, "sources"),
        "filter": form.get("filter", ""), "enabled": form.get("enabled") == "on",
        "config": read_form(config_schema(channel.Config), dict(form.items())),
        "mapping": rules_from_form(form_list(form, "map_target"), form_list(form, "map_kind"),
                                   form_list(form, "map_value"), form_list(form, "map_transforms")),
    }
    if form.get("max_attempts", "").strip().isdigit():
        entry["max_attempts"] = int(form["max_attempts"])
    return {k: v for k, v in entry.items() if v is not None}


def _form_page(hub: Hub, entry: dict[str, Any], errors: dict[str, str], is_new: bool, status: int = 200,
               flash: str = "") -> Template:
    channel = hub.registry.channel(entry["channel"])
    config_errors = {k.removeprefix("config."): v for k, v in errors.items() if k.startswith("config.")}
    fields = build_form(config_schema(channel.Config), entry.get("config", {}), config_errors)
    return page("admin/delivery_form.html", status, entry=entry, errors=errors, is_new=is_new, channel=channel,
                fields=fields, rows=rows_from_rules(entry.get("mapping", [])), transforms=sorted(hub.registry.transforms),
                targets=list(channel.allowed_targets or []), leads=_recent_leads(hub, entry.get("sources", [])),
                flashes=[flash] if flash else [], **choices(hub))


class AdminDeliveries(AdminController):
    path = "/admin/deliveries"

    @get("/", sync_to_thread=True)
    def index(self, state: State) -> Template:
        with Session(state.hub.engine) as session:
            rows = session.execute(select(Delivery, Buyer.slug).outerjoin(Buyer, Buyer.id == Delivery.buyer_id)
                                   .order_by(Delivery.slug)).all()
        return page("admin/deliveries.html", deliveries=rows, channels=state.hub.registry.channels)

    @get("/new", sync_to_thread=True)
    def new(self, state: State, channel: FromQuery[str | None] = None) -> Template:
        if channel not in state.hub.registry.channels:
            return page("admin/delivery_pick.html", channels=state.hub.registry.channels)
        return _form_page(state.hub, {"channel": channel, "enabled": True, "config": {}, "mapping": []}, {}, True)

    @get("/{slug:str}", sync_to_thread=True)
    def edit(self, slug: FromPath[str], request: Request, state: State) -> Template:
        delivery, buyer, sources = _stored(state.hub, slug)
        if delivery is None:
            return page("message.html", 404, heading="Not found", text=f"There is no delivery '{slug}'.")
        try:
            cls = state.hub.registry.channel(delivery.channel).Config
        except LookupError as exc:
            return page("message.html", 409, heading="Plugin missing", text=str(exc))
        entry = {"slug": delivery.slug, "name": delivery.name, "channel": delivery.channel, "buyer": buyer,
                 "sources": sources, "filter": delivery.filter, "max_attempts": delivery.max_attempts,
                 "enabled": delivery.enabled, "config": mask_config(cls, delivery.config), "mapping": delivery.mapping}
        return _form_page(state.hub, entry, {}, False, flash=pop_flash(request))

    @post("/save")
    async def save_delivery(self, request: Request, state: State) -> Template | Redirect:
        form = await request.form()
        entry = _entry_from_form(state.hub, form)
        errors = await anyio.to_thread.run_sync(partial(save, state.hub, "deliveries", entry))
        if errors:
            return _form_page(state.hub, entry, errors, form.get("is_new") == "1", status=400)
        flash(request, "Saved.")
        return Redirect(f"/admin/deliveries/{entry['slug']}")

    @post("/{slug:str}/toggle", sync_to_thread=True)
    def toggle(self, slug: FromPath[str], state: State) -> Redirect:
        with Session(state.hub.engine) as session:
            delivery = session.execute(select(Delivery).where(Delivery.slug == slug)).scalar_one_or_none()
            if delivery is not None:
                delivery.enabled = not delivery.enabled
                session.commit()
        return Redirect("/admin/deliveries")

    @post("/preview")
    async def preview(self, request: Request, state: State) -> Template:
        """The mapped output for the chosen lead (or a sample), as the admin types."""
        form = await request.form()
        hub: Hub = state.hub
        rules_raw = rules_from_form(form_list(form, "map_target"), form_list(form, "map_kind"),
                                    form_list(form, "map_value"), form_list(form, "map_transforms"))
        lead, label = await anyio.to_thread.run_sync(partial(_preview_lead, hub, form.get("lead_id", ""),
                                                             form_list(form, "sources")))
        try:
            rules = parse_rules(rules_raw)
        except msgspec.ValidationError as exc:
            return page("admin/_preview.html", output={}, errors={"mapping": str(exc)}, label=label, notes=[])
        shown = preview(rules, lead, hub.registry.transforms)
        notes: list[str] = []
        channel = hub.registry.channels.get(form.get("channel", ""))
        if channel is not None:
            settings = read_form(config_schema(channel.Config), dict(form.items()))
            merged = {**lead, **shown.output}
            try:
                notes = channel.preview_notes(settings, lambda template: render(template, merged))
            except Exception as exc:  # noqa: BLE001 - a plugin's hint must not break the page
                notes = [f"({channel.name} could not describe the message: {exc})"]
        return page("admin/_preview.html", output=shown.output, errors=shown.errors, label=label, notes=notes)

    @post("/{slug:str}/test")
    async def send_test(self, slug: FromPath[str], request: Request, state: State) -> Template:
        form = await request.form()
        return await anyio.to_thread.run_sync(partial(_send_test, state, slug, form.get("lead_id", "")))


def _preview_lead(hub: Hub, lead_id: str, sources: list[str]) -> tuple[dict[str, Any], str]:
    with Session(hub.engine) as session:
        if lead_id.isdigit() and (lead := session.get(Lead, int(lead_id))) is not None:
            return dict(lead.fields), f"lead #{lead.id}"
        source = session.execute(select(Source).where(Source.slug.in_(sources or [""]))).scalars().first()
    return sample_lead(source.fields if source else []), "a sample lead"


def _send_test(state: State, slug: str, lead_id: str) -> Template:
    hub: Hub = state.hub
    with Session(hub.engine, expire_on_commit=False) as session:
        delivery = session.execute(select(Delivery).where(Delivery.slug == slug)).scalar_one_or_none()
        lead = session.get(Lead, int(lead_id)) if lead_id.isdigit() else None
        source = session.get(Source, lead.source_id) if lead else None
    if delivery is None or lead is None:
        return page("admin/_attempt.html", 400, attempt=None, error="Pick a lead to send (save the delivery first).")
    result, masker = DeliveryRunner(hub, state.service.http, lambda *_: None).try_once(delivery, lead, source.slug)
    return page("admin/_attempt.html", attempt=masker.deep(msgspec.to_builtins(result)), error="")

