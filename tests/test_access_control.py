"""Every route, from the app's own route table, refuses anonymous visitors and buyers where it should.

New routes are covered automatically: a route must either be listed as public here or refuse.
"""

from __future__ import annotations

import re

import pytest
from litestar.testing import TestClient

from hub.accounts.buyers import accept_invite, invite_buyer
from hub.config.apply import apply_document
from hub.web.app import create_app

# Routes anyone may reach, each for a reason.
PUBLIC = {
    "/healthz", "/readyz",  # load balancers; they say ok or which dependency is down, nothing more
    "/metrics",  # Prometheus: counts per source and delivery slug, no lead data and no secrets
    "/webhooks/{source:str}",  # lead sources authenticate with the source's key instead
    "/admin/login", "/buyer/login",  # the way in
    "/buyer/welcome/{token:str}",  # the one-time invitation link is the credential
    "/",  # redirects to the admin sign-in
}
PUBLIC_PREFIXES = ("/static", "/schema")  # the stylesheet, htmx; the OpenAPI description
SAMPLE = {"str": "x", "int": "1", "path": "x"}


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+):(\w+)\}", lambda m: SAMPLE.get(m.group(2), "1"), path)


def routes(app) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    found = []
    for route in app.routes:
        if route.path in PUBLIC or route.path.startswith(PUBLIC_PREFIXES):
            continue
        for method in sorted(getattr(route, "methods", set()) - {"HEAD", "OPTIONS"}):
            found.append((method, route.path))
    return found


def refused(answer, *, login: str) -> bool:  # type: ignore[no-untyped-def]
    if answer.status_code in (401, 403, 404):
        return True
    return answer.status_code in (302, 303) and answer.headers["location"].startswith(login)


@pytest.fixture
def app(hub):  # type: ignore[no-untyped-def]
    return create_app(hub, embedded=False)


def test_the_route_table_is_not_empty(app):
    assert len(routes(app)) > 25


def test_anonymous_visitors_are_refused_everywhere(app):
    with TestClient(app) as client:
        token = re.search(r'name="_csrf_token" value="([^"]+)"', client.get("/admin/login").text).group(1)
        for method, path in routes(app):
            answer = client.request(method, concrete(path), headers={"X-CSRFToken": token}, follow_redirects=False)
            login = "/buyer/login" if path.startswith(("/buyer", "/downloads")) else "/admin/login"
            assert refused(answer, login=login), f"{method} {path} answered {answer.status_code}"


def test_a_signed_in_buyer_reaches_only_the_buyer_pages(hub, app):
    apply_document(hub, {"buyers": [{"slug": "acme"}]})
    accept_invite(hub.engine, invite_buyer(hub.engine, "acme", "ops@acme.example"), "a long password")
    with TestClient(app) as client:
        token = re.search(r'name="_csrf_token" value="([^"]+)"', client.get("/buyer/login").text).group(1)
        client.post("/buyer/login", data={"_csrf_token": token, "email": "ops@acme.example",
                                          "password": "a long password"})
        assert client.get("/buyer").status_code == 200
        for method, path in routes(app):
            if path.startswith(("/buyer", "/downloads")):
                continue
            answer = client.request(method, concrete(path), headers={"X-CSRFToken": token}, follow_redirects=False)
            assert refused(answer, login="/admin/login"), f"{method} {path} answered {answer.status_code} to a buyer"


def test_forms_without_a_csrf_token_are_refused(app, hub):
    with TestClient(app) as client:
        for path in ("/admin/login", "/buyer/login", "/admin/sources/save", "/admin/deliveries/save"):
            assert client.post(path, data={"email": "a@b.c"}).status_code == 403, path
