"""The dashboard, buyers and installed plugins."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import anyio.to_thread
from litestar import Request, get, post
from litestar.datastructures import State
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy import func, select
from sqlmodel import Session

from hub.accounts.buyers import invite_buyer
from hub.models import (
    Buyer,
    BuyerAccount,
    Delivery,
    Dispatch,
    Export,
    Lead,
    Source,
    utcnow,
)
from hub.runtime import Hub
from hub.web.admin.common import AdminController, save
from hub.web.pages import page


class AdminOverview(AdminController):
    @get("/admin", sync_to_thread=True)
    def dashboard(self, state: State) -> Template:
        now = utcnow()
        day, week = now - timedelta(days=1), now - timedelta(days=7)
        with Session(state.hub.engine) as session:
            by_source = session.execute(
                select(Source.slug, func.count(Lead.id).filter(Lead.received_at >= day),
                       func.count(Lead.id).filter(Lead.received_at >= week))
                .outerjoin(Lead, Lead.source_id == Source.id).group_by(Source.slug).order_by(Source.slug)).all()
            outcomes = session.execute(
                select(Delivery.slug, Dispatch.status, func.count()).join(Dispatch, Dispatch.delivery_id == Delivery.id)
                .where(Dispatch.created_at >= week).group_by(Delivery.slug, Dispatch.status)).all()
            errors = session.execute(
                select(Dispatch.lead_id, Delivery.slug, Dispatch.status, Dispatch.last_error, Dispatch.updated_at)
                .join(Delivery, Delivery.id == Dispatch.delivery_id)
                .where(Dispatch.status.in_(("failed", "dead", "rejected")))
                .order_by(Dispatch.updated_at.desc()).limit(10)).all()
        table: dict[str, dict[str, int]] = {}
        for slug, status, count in outcomes:
            table.setdefault(slug, {})[status] = count
        return page("admin/dashboard.html", by_source=by_source, outcomes=table, errors=errors)

    @get("/admin/plugins", sync_to_thread=False)
    def plugins(self, state: State) -> Template:
        return page("admin/plugins.html", registry=state.hub.registry)

    @get("/admin/buyers", sync_to_thread=True)
    def buyers(self, state: State) -> Template:
        return _buyers_page(state.hub, {}, {})

    @post("/admin/buyers")
    async def save_buyer(self, request: Request, state: State) -> Template | Redirect:
        form = await request.form()
        entry = {"slug": form.get("slug", "").strip(), "name": form.get("name", "").strip(),
                 "contact_email": form.get("contact_email", "").strip()}
        errors = await anyio.to_thread.run_sync(partial(save, state.hub, "buyers", entry))
        if errors:
            return await anyio.to_thread.run_sync(partial(_buyers_page, state.hub, entry, errors, 400))
        return Redirect("/admin/buyers")

    @post("/admin/buyers/{slug:str}/invite")
    async def invite(self, slug: FromPath[str], request: Request, state: State) -> Template:
        form = await request.form()
        try:
            token = await anyio.to_thread.run_sync(partial(invite_buyer, state.hub.engine, slug, form.get("email", "")))
        except (LookupError, ValueError) as exc:
            return page("message.html", 400, heading="Not invited", text=str(exc), link="/admin/buyers",
                        link_text="Back to buyers")
        link = f"{state.hub.settings.base_url}/buyer/welcome/{token}"
        return page("message.html", heading="Invitation ready",
                    text=f"Send this one-time link to {form.get('email')} (valid 7 days): {link}",
                    link="/admin/buyers", link_text="Back to buyers")


def _buyers_page(hub: Hub, entry: dict[str, str], errors: dict[str, str], status: int = 200) -> Template:
    with Session(hub.engine) as session:
        buyers = list(session.execute(select(Buyer).order_by(Buyer.slug)).scalars())
        accounts = session.execute(select(BuyerAccount.buyer_id, BuyerAccount.email)).all()
        deliveries = session.execute(select(Delivery.buyer_id, Delivery.slug)).all()
        exports = session.execute(select(Export.buyer_id, Export.slug)).all()
    return page("admin/buyers.html", status, buyers=buyers, accounts=accounts, deliveries=deliveries,
                exports=exports, errors=errors, entry=entry)
