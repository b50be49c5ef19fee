"""The admin JSON API under ``/api/v1``, guarded by bearer tokens from ``leadhub tokens create``."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, get, post
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.exceptions import NotAuthorizedException, NotFoundException, ValidationException
from litestar.handlers import BaseRouteHandler
from litestar.params import FromPath, JSONBody, Parameter
from sqlmodel import Session

from hub.accounts.tokens import verify_token
from hub.delivery.records import dispatch_list, lead_record
from hub.delivery.replay import REPLAYABLE, replay
from hub.models import Dispatch, DispatchStatus

STATUSES = [s.value for s in DispatchStatus]


def bearer_token_guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthorizedException("send an API token as 'Authorization: Bearer <token>' (leadhub tokens create)")
    if verify_token(connection.app.state.hub.engine, token.strip()) is None:
        raise NotAuthorizedException("unknown or revoked API token")


class BulkReplay(msgspec.Struct, forbid_unknown_fields=True):
    """Which dispatches to replay: dead or rejected ones, optionally of one delivery."""

    status: str = "dead"
    delivery: str | None = None


def _replayed(state: State, ids: list[int]) -> dict[str, Any]:
    state.service.enqueue(ids, None)
    return {"replayed": len(ids), "dispatch_ids": ids}


class ApiV1(Controller):
    path = "/api/v1"
    guards = [bearer_token_guard]
    tags = ["api"]

    @get("/leads/{lead_id:int}", sync_to_thread=True, summary="A lead with its dispatches and attempts")
    def lead(self, lead_id: FromPath[int], state: State) -> dict[str, Any]:
        with Session(state.hub.engine) as session:
            record = lead_record(session, lead_id)
        if record is None:
            raise NotFoundException(f"no lead {lead_id}")
        return record

    @get("/dispatches", sync_to_thread=True, summary="Dispatches by status and delivery, in id order")
    def dispatches(
        self,
        state: State,
        status: Annotated[str | None, Parameter(description=f"one of {', '.join(STATUSES)}")] = None,
        delivery: Annotated[str | None, Parameter(description="a delivery slug")] = None,
        after_id: Annotated[int, Parameter(ge=0, description="return ids after this one (paging)")] = 0,
        limit: Annotated[int, Parameter(ge=1, le=1000)] = 100,
    ) -> dict[str, Any]:
        if status is not None and status not in STATUSES:
            raise ValidationException(f"status must be one of {', '.join(STATUSES)}")
        with Session(state.hub.engine) as session:
            items = dispatch_list(session, status=status, delivery=delivery, after_id=after_id, limit=limit)
        return {"dispatches": items, "next_after_id": items[-1]["id"] if len(items) == limit else None}

    @post("/dispatches/{dispatch_id:int}/replay", sync_to_thread=True, status_code=200,
          summary="Replay one dead or rejected dispatch")
    def replay_one(self, dispatch_id: FromPath[int], state: State) -> dict[str, Any]:
        ids = replay(state.hub.engine, [dispatch_id])
        if not ids:
            with Session(state.hub.engine) as session:
                dispatch = session.get(Dispatch, dispatch_id)
            if dispatch is None:
                raise NotFoundException(f"no dispatch {dispatch_id}")
            raise ValidationException(f"dispatch {dispatch_id} is {dispatch.status}; only "
                                      f"{' or '.join(REPLAYABLE)} dispatches can be replayed")
        return _replayed(state, ids)

    @post("/dispatches/replay", sync_to_thread=True, status_code=200,
          summary="Replay every dead (or rejected) dispatch, optionally of one delivery")
    def replay_many(self, data: JSONBody[BulkReplay], state: State) -> dict[str, Any]:
        if data.status not in REPLAYABLE:
            raise ValidationException(f"status must be one of {', '.join(REPLAYABLE)}")
        return _replayed(state, replay(state.hub.engine, status=data.status, delivery=data.delivery))
