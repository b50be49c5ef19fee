"""``POST /webhooks/{source}``: decode the body, hand it to intake, answer fast and clearly."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qsl

import msgspec
from litestar import Request, Response, post
from litestar.params import FromPath
from sqlalchemy.exc import InterfaceError, OperationalError

from hub import metrics
from hub.ingestion.intake import Intake

log = logging.getLogger("leadhub.intake")

JSON_TYPES = ("application/json", "text/json")
FORM_TYPE = "application/x-www-form-urlencoded"
KEY_PARAM = "key"


class BodyError(ValueError):
    """A body that cannot be read as lead fields; ``status`` is 415 or 422."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _pairs_to_fields(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name, value in pairs:
        if name in fields:  # a repeated form field becomes a list, as browsers send checkboxes
            previous = fields[name]
            fields[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            fields[name] = value
    return fields


def decode_body(content_type: str, body: bytes, query: list[tuple[str, str]]) -> dict[str, Any]:
    """Lead fields from a JSON, form-encoded or empty body plus the query string (pure).

    Query parameters other than ``key`` are fields too; the body wins on a clash.
    """
    fields = _pairs_to_fields([(k, v) for k, v in query if k != KEY_PARAM])
    media_type = content_type.split(";", 1)[0].strip().lower()
    if not body.strip():
        return fields
    if media_type in JSON_TYPES or media_type.endswith("+json"):
        try:
            data = msgspec.json.decode(body)
        except msgspec.DecodeError as exc:
            raise BodyError(422, f"the body is not valid JSON: {exc}") from None
        except RecursionError:
            raise BodyError(422, "the JSON body is nested too deeply") from None
        if not isinstance(data, dict):
            raise BodyError(422, f"the body must be a JSON object of fields, not {type(data).__name__}")
        fields.update(data)
        return fields
    if media_type == FORM_TYPE:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BodyError(422, f"the form body is not valid UTF-8 (byte {exc.start})") from None
        fields.update(_pairs_to_fields(parse_qsl(text, keep_blank_values=True)))
        return fields
    shown = media_type or "no Content-Type"
    raise BodyError(415, f"cannot read {shown}: send application/json, {FORM_TYPE}, or the fields in the query string")


def make_webhook_handler(max_body_bytes: int):  # type: ignore[no-untyped-def]
    @post(
        "/webhooks/{source:str}",
        request_max_body_size=max_body_bytes,
        status_code=202,
        summary="Post a lead",
        description="Send a lead's fields as JSON, form-encoded or in the query string, with the source's key "
        "in X-API-Key or ?key=. 202 with the lead id; 401, 404, 413, 415 or 422 with a JSON error "
        "naming every bad field. An Idempotency-Key header makes a retry return the first answer.",
        tags=["intake"],
    )
    async def webhook(source: FromPath[str], request: Request) -> Response[dict[str, Any]]:
        # Async on purpose: checking a lead is quick CPU work, and storing it awaits the lead writer's
        # group commit, so a request costs no thread hand-off. The body is read here, not injected as
        # a parameter: Litestar's parameter machinery cost a few per cent of a lead's CPU.
        # Parsed here rather than through request.query_params, which cost more than the rest of the handler.
        body = await request.body()
        query = parse_qsl(request.scope["query_string"].decode("utf-8", errors="replace"), keep_blank_values=True)
        try:
            fields = decode_body(request.headers.get("content-type", ""), body, query)
        except BodyError as exc:
            return Response({"error": str(exc)}, status_code=exc.status)
        api_key = request.headers.get("x-api-key") or next((v for k, v in query if k == KEY_PARAM), None)
        intake: Intake = request.app.state.intake
        try:
            with metrics.INTAKE_SECONDS.time():
                answer = await intake.receive_async(source, fields, api_key, request.headers.get("idempotency-key"))
        except (OperationalError, InterfaceError) as exc:
            # Not stored, so not accepted: a 503 makes the source send it again later.
            log.error("lead for %s not stored, database unavailable: %s", source, exc.orig or exc)
            return Response({"error": "the hub cannot store leads right now; send this lead again shortly"},
                            status_code=503, headers={"Retry-After": "5"})
        metrics.LEADS.labels(source, answer.body.get("status") or str(answer.status_code)).inc()
        return Response(answer.body, status_code=answer.status_code)

    return webhook
