"""Admin sign-in: a session cookie, CSRF on the form, and a throttle on guessing."""

from __future__ import annotations

import threading
import time
from collections import deque

from litestar import Controller, Request, get, post
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.exceptions import NotAuthorizedException
from litestar.handlers import BaseRouteHandler
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from hub.accounts.admins import authenticate_admin
from hub.web.buyer_portal import Form
from hub.web.pages import page, safe_next

LOGIN = "/admin/login"


class LoginThrottle:
    """At most ``limit`` failed sign-ins per address and per email in ``window`` seconds."""

    def __init__(self, limit: int = 5, window: float = 300.0) -> None:
        self.limit, self.window = limit, window
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        failures = self._failures.setdefault(key, deque())
        while failures and failures[0] < now - self.window:
            failures.popleft()
        return failures

    def blocked(self, *keys: str) -> bool:
        now = time.monotonic()
        with self._lock:
            return any(len(self._recent(k, now)) >= self.limit for k in keys)

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)


class NotSignedIn(NotAuthorizedException):
    """Raised by the admin guard; pages turn it into a redirect to sign-in."""


def admin_guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    session = connection.scope.get("session") or {}
    if not session.get("admin_id"):
        raise NotSignedIn("sign in as an admin")


class AdminAuth(Controller):
    include_in_schema = False

    @get(LOGIN, sync_to_thread=False)
    def form(self, next: FromQuery[str | None] = None) -> Template:  # noqa: A002
        return page("admin/login.html", next=safe_next(next, "/admin"), email="", error="")

    @post(LOGIN, sync_to_thread=True)
    def login(self, request: Request, data: Form, state: State) -> Template | Redirect:
        email = data.get("email", "").strip().lower()
        address = request.client.host if request.client else "?"
        throttle: LoginThrottle = state.login_throttle
        target = safe_next(data.get("next"), "/admin")
        if throttle.blocked(f"ip:{address}", f"email:{email}"):
            return page("admin/login.html", 429, next=target, email=email,
                        error="Too many failed attempts. Wait a few minutes and try again.")
        admin = authenticate_admin(state.hub.engine, email, data.get("password", ""))
        if admin is None:
            throttle.failed(f"ip:{address}", f"email:{email}")
            return page("admin/login.html", 401, next=target, email=email,
                        error="That email and password do not match an admin account.")
        request.set_session({"admin_id": admin.id, "admin_email": admin.email})
        return Redirect(target)

    @post("/admin/logout", sync_to_thread=False)
    def logout(self, request: Request) -> Redirect:
        request.clear_session()
        return Redirect(LOGIN)
