"""The buyer portal: sign in, see your own export files, download them. Nothing else."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import File, Redirect, Template
from sqlalchemy import select
from sqlmodel import Session

from hub.accounts.buyers import accept_invite, authenticate_buyer
from hub.models import Buyer, BuyerAccount, Export, ExportRun, utcnow
from hub.web.pages import message_page, page, redirect_to_login, safe_next

Form = URLEncodedBody[dict[str, str]]
LOGIN = "/buyer/login"


def _human_size(size: int | None) -> str:
    value = float(size or 0)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return ""


def _link_expiry(run: ExportRun, export: Export) -> Any:
    return (run.finished_at or run.created_at) + timedelta(hours=export.link_ttl_hours)


class BuyerPortal(Controller):
    include_in_schema = False

    @get(LOGIN, sync_to_thread=False)
    def login_form(self, next: FromQuery[str | None] = None) -> Template:  # noqa: A002 - the query parameter's name
        return page("buyer/login.html", next=safe_next(next, "/buyer"), email="", error="")

    @post(LOGIN, sync_to_thread=True)
    def login(self, request: Request, data: Form, state: State) -> Template | Redirect:
        account = authenticate_buyer(state.hub.engine, data.get("email", ""), data.get("password", ""))
        if account is None:
            return page("buyer/login.html", 401, next=safe_next(data.get("next"), "/buyer"),
                        email=data.get("email", ""), error="That email and password do not match an account.")
        request.set_session({"buyer_account": account.id, "buyer_id": account.buyer_id})
        return Redirect(safe_next(data.get("next"), "/buyer"))

    @post("/buyer/logout", sync_to_thread=False)
    def logout(self, request: Request) -> Redirect:
        request.clear_session()
        return Redirect(LOGIN)

    @get("/buyer/welcome/{token:str}", sync_to_thread=False)
    def welcome_form(self, token: FromPath[str]) -> Template:
        return page("buyer/welcome.html", error="")

    @post("/buyer/welcome/{token:str}", sync_to_thread=True)
    def welcome(self, token: FromPath[str], request: Request, data: Form, state: State) -> Template | Redirect:
        try:
            account = accept_invite(state.hub.engine, token, data.get("password", ""))
        except (LookupError, ValueError) as exc:
            return page("buyer/welcome.html", 400, error=str(exc).removeprefix("password: "))
        request.set_session({"buyer_account": account.id, "buyer_id": account.buyer_id})
        return Redirect("/buyer")

    @get("/buyer", sync_to_thread=True)
    def files(self, request: Request, state: State) -> Template | Redirect:
        buyer_id = request.session.get("buyer_id") if request.session else None
        if buyer_id is None:
            return redirect_to_login(request, LOGIN)
        now = utcnow()
        with Session(state.hub.engine) as session:
            buyer = session.get(Buyer, buyer_id)
            account = session.get(BuyerAccount, request.session.get("buyer_account"))
            rows = session.execute(
                select(ExportRun, Export).join(Export, Export.id == ExportRun.export_id)
                .where(Export.buyer_id == buyer_id, ExportRun.status == "succeeded", ExportRun.file_path.is_not(None))
                .order_by(ExportRun.id.desc()).limit(200)).all()
        files = [
            {"id": run.id, "filename": run.filename, "row_count": run.row_count, "size": _human_size(run.byte_size),
             "finished": f"{run.finished_at:%Y-%m-%d %H:%M} UTC", "zipped": (run.filename or "").endswith(".zip"),
             "expires": f"{_link_expiry(run, export):%Y-%m-%d %H:%M} UTC"}
            for run, export in rows if _link_expiry(run, export) > now
        ]
        return page("buyer/files.html", files=files, buyer_name=buyer.name or buyer.slug,
                    account_email=account.email if account else "")

    @get("/downloads/{run_id:int}", sync_to_thread=True)
    def download(self, run_id: FromPath[int], request: Request, state: State) -> File | Template | Redirect:
        buyer_id = request.session.get("buyer_id") if request.session else None
        if buyer_id is None:
            return redirect_to_login(request, LOGIN)
        with Session(state.hub.engine) as session:
            run = session.get(ExportRun, run_id)
            export = session.get(Export, run.export_id) if run else None
        # Another buyer's file and a missing file look the same: no hint that it exists.
        if run is None or export is None or export.buyer_id != buyer_id or run.status != "succeeded":
            return message_page("Not found", "There is no such file for your account.", 404, "/buyer", "Your files")
        if not run.file_path or not Path(run.file_path).exists() or _link_expiry(run, export) < utcnow():
            return message_page("Link expired", "This file is no longer available. Ask for it to be sent again.",
                                410, "/buyer", "Your files")
        return File(path=run.file_path, filename=run.filename, content_disposition_type="attachment")
