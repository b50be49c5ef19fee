"""Every error a client sees is JSON with an ``error`` line; never a stack trace."""

from __future__ import annotations

import logging

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

log = logging.getLogger("leadhub.web")


def http_error(request: Request, exc: HTTPException) -> Response:
    body: dict[str, object] = {"error": exc.detail}
    if isinstance(exc, ValidationException) and exc.extra:
        # Litestar's own parameter/body validation: name each bad field.
        body["fields"] = {
            str(item.get("key") or item.get("source") or "body"): item.get("message", "")
            for item in exc.extra if isinstance(item, dict)
        } if isinstance(exc.extra, list) else exc.extra
    return Response(body, status_code=exc.status_code, headers=exc.headers)


def unexpected_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return Response({"error": "internal error; it has been logged"}, status_code=500)


EXCEPTION_HANDLERS = {HTTPException: http_error, Exception: unexpected_error}
