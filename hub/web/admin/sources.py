"""Sources: the field spec editor, the webhook URL and key, key rotation, a ready curl example."""

from __future__ import annotations

import json
import secrets
from functools import partial
from typing import Any

import anyio.to_thread
from litestar import Request, get, post
from litestar.datastructures import State
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlmodel import Session

from hub.ingestion.fields import FIELD_TYPES
from hub.models import Source
from hub.runtime import Hub
from hub.secrets import MASK
from hub.web.admin.common import AdminController, flash, form_list, pop_flash, save
from hub.web.admin.mapping_form import sample_lead
from hub.web.pages import page


def fields_from_form(form: Any) -> list[dict[str, Any]]:
    """The field rows of the editor, in order; a row without a name is ignored."""
    rows = zip(form_list(form, "field_name"), form_list(form, "field_type"), form_list(form, "field_required"),
               form_list(form, "field_country"), form_list(form, "field_max_length"), form_list(form, "field_choices"),
               strict=False)
    fields = []
    for name, kind, required, country, max_length, choices in rows:
        if not name.strip():
            continue
        spec: dict[str, Any] = {"name": name.strip(), "type": kind, "required": required == "yes"}
        if country.strip():
            spec["country"] = country.strip().upper()
        if max_length.strip():
            spec["max_length"] = int(max_length) if max_length.strip().isdigit() else max_length
        if choices.strip():
            spec["choices"] = [c.strip() for c in choices.split(",") if c.strip()]
        fields.append(spec)
    return fields


def curl_example(base_url: str, slug: str, fields: list[dict[str, Any]]) -> str:
    body = json.dumps(sample_lead(fields))
    return (f"curl -X POST {base_url}/webhooks/{slug} \\\n  -H 'X-API-Key: YOUR-KEY' "
            f"-H 'Content-Type: application/json' \\\n  -d '{body}'")


def _form_page(hub: Hub, entry: dict[str, Any], errors: dict[str, str], is_new: bool, status: int = 200,
               flash: str = "") -> Template:
    return page("admin/source_form.html", status, entry=entry, errors=errors, is_new=is_new, types=FIELD_TYPES,
                webhook=f"{hub.settings.base_url}/webhooks/{entry.get('slug', '')}",
                curl=curl_example(hub.settings.base_url, entry.get("slug") or "SLUG", entry.get("fields", [])),
                flashes=[flash] if flash else [])


class AdminSources(AdminController):
    path = "/admin/sources"

    @get("/", sync_to_thread=True)
    def index(self, state: State) -> Template:
        with Session(state.hub.engine) as session:
            sources = list(session.execute(select(Source).order_by(Source.slug)).scalars())
        return page("admin/sources.html", sources=sources, base_url=state.hub.settings.base_url)

    @get("/new", sync_to_thread=False)
    def new(self, state: State) -> Template:
        entry = {"fields": [{"name": "email", "type": "email", "required": True}], "dedupe_window_hours": 24}
        return _form_page(state.hub, entry, {}, True)

    @get("/{slug:str}", sync_to_thread=True)
    def edit(self, slug: FromPath[str], request: Request, state: State) -> Template:
        with Session(state.hub.engine) as session:
            source = session.execute(select(Source).where(Source.slug == slug)).scalar_one_or_none()
        if source is None:
            return page("message.html", 404, heading="Not found", text=f"There is no source '{slug}'.")
        entry = {"slug": source.slug, "name": source.name, "fields": source.fields, "dedupe_on": source.dedupe_on,
                 "dedupe_window_hours": source.dedupe_window_hours, "has_key": bool(source.api_key),
                 "key_is_env": source.api_key.startswith("env:"), "api_key": source.api_key if
                 source.api_key.startswith("env:") else ""}
        return _form_page(state.hub, entry, {}, False, flash=pop_flash(request))

    @post("/save")
    async def save_source(self, request: Request, state: State) -> Template | Redirect:
        form = await request.form()
        new_key = secrets.token_urlsafe(24) if form.get("rotate") == "on" or (
            form.get("is_new") == "1" and not form.get("api_key")) else ""
        entry: dict[str, Any] = {
            "slug": form.get("slug", "").strip(), "name": form.get("name", "").strip(),
            "api_key": new_key or form.get("api_key") or MASK,
            "fields": fields_from_form(form),
            "dedupe_on": [f.strip() for f in form.get("dedupe_on", "").split(",") if f.strip()],
        }
        try:
            entry["dedupe_window_hours"] = float(form.get("dedupe_window_hours") or 24)
        except ValueError:
            entry["dedupe_window_hours"] = form.get("dedupe_window_hours")
        errors = await anyio.to_thread.run_sync(partial(save, state.hub, "sources", entry))
        if errors:
            entry["api_key"] = ""
            return _form_page(state.hub, entry, errors, form.get("is_new") == "1", status=400)
        # The new key travels in the (encrypted) session, not the URL: it must not sit in browser history.
        flash(request, f"Saved. The new key is {new_key} — shown once, copy it now." if new_key else "Saved.")
        return Redirect(f"/admin/sources/{entry['slug']}")
