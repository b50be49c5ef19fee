"""What every admin page shares: the guard, saving through `apply`, and the lists forms offer."""

from __future__ import annotations

import re
from typing import Any

from litestar import Controller, Request
from litestar.response import Redirect
from sqlalchemy import select
from sqlmodel import Session

from hub.config.apply import ApplyError, apply_document
from hub.models import Buyer, Source
from hub.runtime import Hub
from hub.web.admin.auth import LOGIN, NotSignedIn, admin_guard

_LOCATION = re.compile(r"^\w+\[\d+\](?: \([^)]*\))?\.?(?P<key>[^:]*): (?P<message>.*)$", re.DOTALL)


class AdminController(Controller):
    guards = [admin_guard]
    include_in_schema = False


def to_login(request: Request, _exc: NotSignedIn) -> Redirect:
    return Redirect(f"{LOGIN}?next={request.url.path}")


def save(hub: Hub, section: str, entry: dict[str, Any]) -> dict[str, str]:
    """Apply one entry exactly as `leadhub apply` would; problems keyed by setting ("config.url", "slug", ...)."""
    try:
        apply_document(hub, {section: [entry]})
    except ApplyError as exc:
        problems: dict[str, str] = {}
        for line in exc.errors:
            match = _LOCATION.match(line)
            key, message = (match["key"] or "form", match["message"]) if match else ("form", line)
            problems[key] = f"{problems[key]}; {message}" if key in problems else message
        return problems
    return {}


def flash(request: Request, message: str) -> None:
    """A message for the next page this admin sees."""
    request.set_session({**(request.session or {}), "flash": message})


def pop_flash(request: Request) -> str:
    session = dict(request.session or {})
    message = session.pop("flash", "")
    if message:
        request.set_session(session)
    return message


def choices(hub: Hub) -> dict[str, list[str]]:
    with Session(hub.engine) as session:
        return {"buyers": list(session.execute(select(Buyer.slug).order_by(Buyer.slug)).scalars()),
                "sources": list(session.execute(select(Source.slug).order_by(Source.slug)).scalars())}


def form_list(form: Any, name: str) -> list[str]:
    """All values of a repeated form field (checkboxes, rows)."""
    if hasattr(form, "getall"):
        try:
            return [str(v) for v in form.getall(name)]
        except KeyError:
            return []
    values = form.get(name, [])
    return [values] if isinstance(values, str) else list(values)
