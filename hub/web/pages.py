"""What every HTML page needs: templates, static files, signed sessions and CSRF protection."""

from __future__ import annotations

import hashlib
from typing import Any

from litestar import Request
from litestar.config.csrf import CSRFConfig
from litestar.middleware.session.client_side import CookieBackendConfig
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, Template
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from hub.settings import Settings
from ui import STATIC, TEMPLATES

# Machine-to-machine routes carry their own credentials (source keys, bearer tokens), not cookies.
CSRF_EXEMPT = ["/webhooks/", "/api/"]


def _derive(secret_key: str, purpose: str) -> bytes:
    return hashlib.sha256(f"leadhub-{purpose}:{secret_key}".encode()).digest()


def session_config(settings: Settings) -> CookieBackendConfig:
    return CookieBackendConfig(secret=_derive(settings.secret_key, "session"), key="leadhub_session",
                               max_age=12 * 3600, httponly=True, samesite="lax",
                               exclude="^/webhooks/",  # lead sources have no session: skip the cookie work
                               secure=settings.base_url.startswith("https://"))


def csrf_config(settings: Settings) -> CSRFConfig:
    return CSRFConfig(secret=_derive(settings.secret_key, "csrf").hex(), cookie_name="leadhub_csrf",
                      cookie_httponly=True, exclude=CSRF_EXEMPT,
                      cookie_secure=settings.base_url.startswith("https://"))


def template_config() -> TemplateConfig:
    return TemplateConfig(directory=[TEMPLATES], engine=JinjaTemplateEngine)


def static_router():  # type: ignore[no-untyped-def]
    return create_static_files_router(path="/static", directories=[STATIC], name="static",
                                      include_in_schema=False)


def page(name: str, status_code: int = 200, **context: Any) -> Template:
    return Template(template_name=name, context=context, status_code=status_code)


def message_page(heading: str, text: str, status_code: int, link: str = "", link_text: str = "") -> Template:
    return page("message.html", status_code, heading=heading, text=text, link=link, link_text=link_text)


def safe_next(target: str | None, default: str) -> str:
    """Only same-site paths may be redirected to after sign-in (no open redirects)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


def redirect_to_login(request: Request, login_path: str) -> Redirect:
    return Redirect(f"{login_path}?next={request.url.path}")
