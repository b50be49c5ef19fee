"""Issue 8: secrets never reach a response, a page, a log line, an attempt, a dump or the database in plaintext.

One embedded hub is configured with a distinctive value in every place that holds
a secret (each delivery channel, each export transport, the ZIP password, the
source key, the hub's own SMTP URL and secret key, the admin's and the buyer's
passwords, an API token). Leads then really travel to loopback "buyers" that
behave badly on purpose: each first request gets a 500 whose body echoes the
request line, headers and body back (credentials included), the next a 200 that
does the same. The test kit's recorder channel, and a transport defined here,
raise exceptions that name their secret, as a buggy plugin would.

Then every surface is collected: every GET route of the app's own route table
(admin pages, buyer pages, the JSON API with a bearer token, /schema, /metrics,
static files), the generated settings forms, the POSTs that render results
(send test, run now, re-run, live preview, a form saved with errors), every
attempt / dispatch / export-run row and lead record, `leadhub dump` (in process
and through the CLI), every log line (the hub's loggers at DEBUG), the process's
stdout/stderr, the emails and files the buyers received,
and the raw bytes of every file under the data dir (the SQLite database
included: secrets are sealed at rest). Each surface is searched for each secret
raw, percent-encoded, HTML-escaped and base64-encoded at any byte alignment (so
``base64("user:password")`` of a Basic header is found too).

Sanity checks keep it from passing vacuously: the search must find a planted,
non-secret marker in the surfaces that ought to contain it, and the surfaces
must be substantial (pages fetched, attempts made, log lines seen, a dump).
"""

from __future__ import annotations

import base64
import html
import logging
import os
import re
import socket
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, quote_plus, unquote, unquote_plus, urlencode

import msgspec
from litestar.testing import TestClient
from sqlalchemy import select
from sqlmodel import Session

from hub.accounts.admins import create_admin
from hub.accounts.buyers import accept_invite, invite_buyer
from hub.accounts.tokens import create_token
from hub.config.apply import apply_document
from hub.config.dump import dump_document, dump_text
from hub.delivery.records import lead_record
from hub.logs import JsonFormatter, configure_logging
from hub.models import Attempt, Dispatch, ExportRun, Lead
from hub.plugins.contract import ExportContext, ExportTransport, Secret, TransportResult
from hub.plugins.hookspecs import hookimpl
from hub.secrets import MASK
from hub.testing.http_peer import Answer, HttpPeer, RecordedRequest
from hub.testing.hub import make_test_hub, wait_until
from hub.testing.recorder import RecorderPlugin, RecordingChannel
from hub.web.app import create_app
from ui import STATIC

# -- the known secrets ------------------------------------------------------------------------------
# Distinctive, long enough for the hub's masker (4+ characters), and mostly with characters that
# percent-encoding changes ("+", "/"), so an encoded copy is not the raw one.
SECRETS: dict[str, str] = {
    "http_post basic password": "basicPW-7Qx+v/9Zr-Leak",
    "http_post bearer token": "bearerTok-K2p+w/4Ln-Leak",
    "http_post api key (query)": "queryKey-M8d+t/1Hs-Leak",
    "http_post api key (header)": "headerKey-R5c+y/6Jb-Leak",
    "http_post token client_secret": "clientSecret-U3e+q/8Fv-Leak",
    "salesbyte uuid": "sbUUID-5e1f+9a/c2d4-Leak",
    "twilio account_sid": "ACsid7f3a9c1e5b2d8Leak",  # part of Twilio's URL path: letters and digits only
    "twilio auth_token (env:)": "twilioTok-H6n+z/2Wq-Leak",
    "email smtp_password": "smtpPW-J4s+k/7Dx-Leak",
    "HUB_SMTP_URL password": "hubSmtpPW-P9r+m/3Ty-Leak",
    "ftp password": "ftpPW-B1g+h/5Nc-Leak",
    "sftp password": "sftpPW-D7k+j/2Qe-Leak",
    "zip_password": "zipPW-F2w+r/8Lm-Leak",
    "recorder token": "recTok-G5t+p/1Vz-Leak",
    "raising transport password": "raiserPW-N3b+x/6Ks-Leak",
    "source api key": "srcKey-S8v+d/4Ya-Leak",
    "admin password": "adminPW-T1q+f/9Ue-Leak",
    "buyer password": "buyerPW-W6m+c/3Ro-Leak",
    "HUB_SECRET_KEY": "hubSecretKey-X4z+s/7Ig-Leak",
    "secret typed into a form": "typedPW-Y9h+n/5Ep-Leak",
    # Added at run time: the API token, the buyer's (used) invitation token, the OAuth access token.
}
BASIC_USER = "crm-user"
SMTP_USER, HUB_SMTP_USER = "mailer", "hub-mailer"
FTP_USER = "leads"
PLANTED = "Zebedee-Planted-4417"  # a lead's first name: not secret, so it must be found where leads are shown
LEAD = {"first_name": PLANTED, "email": "zeb@example.com", "phone": "07911 123456"}
TWILIO_PATH = f"/2010-04-01/Accounts/{SECRETS['twilio account_sid']}/Messages.json"
DELIVERIES = ("basic-crm", "bearer-crm", "query-crm", "header-crm", "oauth-crm", "acme-salesbyte", "acme-sms",
              "acme-email", "recorded")
EXPORTS = ("ftp-zip", "email-link", "sftp-down", "raising")
# Loggers of the loopback buyers' servers (not the hub): what they log is the buyer's side.
BUYER_SIDE_LOGGERS = ("pyftpdlib", "mail.log", "aiosmtpd", "asyncssh")
# The hub's loggers and the client libraries it runs in process, captured at DEBUG; httpx is captured at
# the level production pins it to (see production_httpx_level).
HUB_LOGGERS = ("leadhub", "hub", "httpcore", "dramatiq", "litestar", "paramiko", "uvicorn")


# -- searching --------------------------------------------------------------------------------------
def base64_cores(value: str) -> set[str]:
    """The base64 text ``value`` turns into wherever it sits in a longer byte string.

    Base64 works on 3-byte groups, so the encoding of a secret inside ``user:secret``
    depends on its offset modulo 3. For each offset, keep only the characters made
    from the secret's bits alone (drop those that mix in the neighbours' bits).
    """
    raw = value.encode()
    cores = set()
    for offset, skip in ((0, 0), (1, 2), (2, 3)):
        bits = 8 * (offset + len(raw))
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            cores.add(encode(b"\0" * offset + raw).decode()[skip: bits // 6])
    return {c for c in cores if len(c) >= 8}


def forms_of(value: str) -> dict[str, str]:
    """A secret's spellings that a leak may take, by name (decoding the surface covers other encodings)."""
    forms = {"raw": value, "url-quoted": quote(value, safe=""), "form-quoted": quote_plus(value),
             "html-escaped": html.escape(value)}
    forms.update({f"base64 {core!r}": core for core in base64_cores(value)})
    return forms


def decoded_views(text: str) -> list[str]:
    """The surface as written and decoded the ways a secret could hide in it."""
    views = [text]
    for decode in (unquote, unquote_plus, html.unescape):
        try:
            decoded = decode(text)
        except Exception:  # noqa: BLE001 - binary junk: the raw view is still searched
            continue
        if decoded != text:
            views.append(decoded)
    return views


def find(surfaces: dict[str, str], secrets: dict[str, str]) -> list[str]:
    """Every (surface, secret, form) where a secret shows; empty when nothing leaked."""
    found = []
    for surface, text in surfaces.items():
        views = decoded_views(text)
        for name, value in secrets.items():
            for form, needle in forms_of(value).items():
                if any(needle in view for view in views):
                    found.append(f"{surface}: {name} ({form})")
                    break
    return found


# -- loopback buyers --------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class EchoingBuyer:
    """Answers the first request per path with a 500, later ones with a 200; both echo the whole request.

    Buyers' error pages and debug endpoints do echo requests; whatever comes back is stored
    on the attempt, so the hub must mask the credentials in it.
    """

    def __init__(self) -> None:
        self.seen: Counter[str] = Counter()
        self.lock = threading.Lock()

    def __call__(self, request: RecordedRequest) -> Answer:
        with self.lock:
            self.seen[request.path] += 1
            number = self.seen[request.path]
        echo = (f"{request.method} {request.path}?{urlencode(request.query, doseq=True)}\n"
                + "".join(f"{k}: {v}\n" for k, v in request.headers.items()) + "\n" + request.text)
        if number == 1:
            return Answer(status=500, body=f"Internal error while handling:\n{echo}")
        return Answer(status=200, json={"id": number, "sid": f"SM{number}", "status": "queued", "echo": echo})


@contextmanager
def smtp_server(accounts: dict[str, str]) -> Iterator[tuple[int, list[bytes]]]:
    """An SMTP server requiring AUTH (over plain text on loopback) for ``accounts``; yields (port, messages)."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    received: list[bytes] = []

    class Mailbox:
        async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
            received.append(envelope.content)
            return "250 2.0.0 Ok: queued"

    def authenticate(server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
        ok = accounts.get(auth_data.login.decode()) == auth_data.password.decode()
        return AuthResult(success=ok, handled=False)

    port = free_port()
    controller = Controller(Mailbox(), hostname="127.0.0.1", port=port, authenticator=authenticate,
                            auth_required=True, auth_require_tls=False)
    controller.start()
    try:
        yield port, received
    finally:
        controller.stop()


@contextmanager
def ftp_server(root: Path, user: str, password: str) -> Iterator[int]:
    from pyftpdlib.authorizers import DummyAuthorizer
    from pyftpdlib.handlers import FTPHandler
    from pyftpdlib.servers import ThreadedFTPServer

    authorizer = DummyAuthorizer()
    authorizer.add_user(user, password, str(root), perm="elradfmw")
    handler = type("Handler", (FTPHandler,), {"authorizer": authorizer, "auth_failed_timeout": 0})
    server = ThreadedFTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"timeout": 0.1, "handle_exit": False},
                              daemon=True)
    thread.start()
    try:
        yield server.socket.getsockname()[1]
    finally:
        server.close_all()
        thread.join(timeout=5)


# -- a transport with a bug: its exception names its secret (the recorder channel does the same) --------
class RaisingConfig(msgspec.Struct, forbid_unknown_fields=True):
    password: Annotated[str, Secret] = ""


class RaisingTransport(ExportTransport):
    name = "raiser"
    title = "Raises (tests)"
    Config = RaisingConfig

    def send(self, ctx: ExportContext) -> TransportResult:
        raise RuntimeError(f"transport bug while logging in with password {ctx.config.password}")


class RaisingPlugin:
    @hookimpl
    def leadhub_export_transports(self) -> list[type]:
        return [RaisingTransport]


# -- the configuration: every secret-bearing setting holds a known value -----------------------------
def configuration(peer: str, smtp_port: int, ftp_port: int) -> dict[str, Any]:
    s = SECRETS
    people = [{"target": "FirstName", "source": "first_name"}, {"target": "Email", "source": "email"}]

    def http_post(slug: str, path: str, auth: dict[str, Any]) -> dict[str, Any]:
        return {"slug": slug, "channel": "http_post", "buyer": "acme", "sources": ["form"], "max_attempts": 3,
                "config": {"url": f"{peer}{path}", "auth": auth}, "mapping": people}

    return {
        "sources": [{"slug": "form", "api_key": s["source api key"], "fields": [
            {"name": "first_name", "type": "string", "required": True},
            {"name": "email", "type": "email", "required": True},
            {"name": "phone", "type": "phone", "country": "GB"}]}],
        "buyers": [{"slug": "acme", "name": "Acme", "contact_email": "leads@acme.example"}],
        "deliveries": [
            http_post("basic-crm", "/basic", {"type": "basic", "username": BASIC_USER,
                                              "password": s["http_post basic password"]}),
            http_post("bearer-crm", "/bearer", {"type": "bearer", "token": s["http_post bearer token"]}),
            http_post("query-crm", "/query", {"type": "api_key", "in": "query", "name": "api_key",
                                              "value": s["http_post api key (query)"]}),
            http_post("header-crm", "/header", {"type": "api_key", "name": "X-Partner-Key",
                                                "value": s["http_post api key (header)"]}),
            http_post("oauth-crm", "/oauth-leads", {"type": "token", "token_url": f"{peer}/oauth/token",
                                                    "client_id": "hub-client",
                                                    "client_secret": s["http_post token client_secret"]}),
            {"slug": "acme-salesbyte", "channel": "salesbyte", "buyer": "acme", "sources": ["form"],
             "max_attempts": 3,
             "config": {"base_url": f"{peer}/sb", "uuid": s["salesbyte uuid"], "quote_profile_id": 12,
                        "send_type": "email", "type": "brand_awareness", "chat_enabled": True,
                        "workflows_enabled": True, "allow_customer_document_upload": False,
                        "trigger_created_messages_to_customer": True},
             "mapping": [{"target": "customer_name", "source": "first_name"},
                         {"target": "customer_email", "source": "email"}]},
            {"slug": "acme-sms", "channel": "sms", "buyer": "acme", "sources": ["form"], "max_attempts": 3,
             "config": {"provider": "twilio", "to": ["+447700900123"], "body": "New lead {{ first_name }}",
                        "account_sid": s["twilio account_sid"], "auth_token": "env:LEAKTEST_TWILIO_TOKEN",
                        "from_number": "+447700900000", "api_base_url": peer}},
            {"slug": "acme-email", "channel": "email", "buyer": "acme", "sources": ["form"], "max_attempts": 3,
             "config": {"to": ["sales@acme.example"], "subject": "New lead {{ first_name }}",
                        "body": "Call {{ first_name }} on {{ phone }}.", "smtp_host": "127.0.0.1",
                        "smtp_port": smtp_port, "smtp_security": "none", "smtp_username": SMTP_USER,
                        "smtp_password": s["email smtp_password"], "from_address": "leads@hub.example"}},
            {"slug": "recorded", "channel": "recorder", "buyer": "acme", "sources": ["form"], "max_attempts": 3,
             "config": {"outcomes": ["raise", "failed", "accepted"], "token": s["recorder token"]}},
        ],
        "exports": [
            # A schedule that does not fire during the test: the runs below are started by hand.
            {"slug": "ftp-zip", "transport": "ftp", "schedule": "0 3 1 1 *", "buyer": "acme", "sources": ["form"],
             "zip_password": s["zip_password"],
             "config": {"host": "127.0.0.1", "port": ftp_port, "username": FTP_USER, "password": s["ftp password"]}},
            {"slug": "email-link", "transport": "email", "schedule": "0 3 1 1 *", "buyer": "acme",
             "sources": ["form"], "config": {"to": ["files@acme.example"], "attach": "link"}},
            {"slug": "sftp-down", "transport": "sftp", "schedule": "0 3 1 1 *", "buyer": "acme", "sources": ["form"],
             "max_attempts": 1, "config": {"host": "127.0.0.1", "port": free_port(), "username": FTP_USER,
                                           "password": s["sftp password"], "trust_on_first_use": True}},
            {"slug": "raising", "transport": "raiser", "schedule": "0 3 1 1 *", "buyer": "acme",
             "sources": ["form"], "max_attempts": 1, "config": {"password": s["raising transport password"]}},
        ],
    }


# -- collecting the surfaces ------------------------------------------------------------------------
class LogCollector(logging.Handler):
    """Every record, formatted as the hub writes it in production (JSON, with the traceback) and as text."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.json = JsonFormatter()
        self.text = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(BUYER_SIDE_LOGGERS):
            return
        try:
            self.lines.append(f"{self.text.format(record)}\n{self.json.format(record)}")
        except Exception as exc:  # noqa: BLE001 - a record that cannot be formatted is still a surface
            self.lines.append(f"unformattable record {record.name}: {exc!r} {record.msg!r} {record.args!r}")


def production_httpx_level(monkeypatch) -> int:  # type: ignore[no-untyped-def]
    """The level `leadhub` sets on the httpx logger (hub/logs.py), read without touching the root handlers.

    httpx logs each request's URL at INFO ("HTTP Request: POST <url>"), and URLs carry secrets the
    hub cannot mask there (an http_post API key in the query, Twilio's account SID in the path).
    Production keeps httpx at WARNING for that reason too; this test holds it to that.
    """
    httpx_logger = logging.getLogger("httpx")
    before = httpx_logger.level
    with monkeypatch.context() as patched:
        patched.setattr(logging, "basicConfig", lambda **_: None)  # keep pytest's handlers on the root logger
        configure_logging()
    level = httpx_logger.level
    httpx_logger.setLevel(before)
    assert level >= logging.WARNING, "httpx would log request URLs, and so URL-borne secrets"
    return level


@contextmanager
def collecting_logs(httpx_level: int) -> Iterator[LogCollector]:
    collector = LogCollector()
    loggers = [logging.getLogger(), logging.getLogger("httpx"), *(logging.getLogger(name) for name in HUB_LOGGERS)]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        # On the named loggers too: litestar's does not propagate, and the app's start replaces the root
        # logger's handlers with litestar's own (which write to stderr, collected through capfd).
        logger.addHandler(collector)
        logger.setLevel(logging.DEBUG)
    logging.getLogger().setLevel(logging.WARNING)  # other libraries: warnings and errors only
    logging.getLogger("httpx").setLevel(httpx_level)
    try:
        yield collector
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(collector)
            logger.setLevel(level)


def csrf_of(text: str) -> str:
    return re.search(r'name="_csrf_token" value="([^"]+)"', text).group(1)


def sign_in(client: TestClient, kind: str, email: str, password: str) -> str:
    """Sign in through the login form; returns a CSRF token for later posts."""
    token = csrf_of(client.get(f"/{kind}/login").text)
    answer = client.post(f"/{kind}/login", data={"_csrf_token": token, "email": email, "password": password},
                         follow_redirects=False)
    assert answer.status_code in (302, 303), f"{kind} sign-in failed: {answer.status_code}"
    return token


def rows_as_text(hub, model: type) -> list[str]:  # type: ignore[no-untyped-def]
    """Every row of a table with every column, as text."""
    with Session(hub.engine) as session:
        rows = session.execute(select(model).order_by(model.id)).scalars().all()
        return [repr(row.model_dump()) for row in rows]


def route_urls(app, known: dict[str, list[str]]) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """(route, url) for every GET route in the app's table; a parameterised one needs values in ``known``."""
    urls = []
    for route in app.routes:
        if "GET" not in getattr(route, "methods", set()):
            continue
        if route.path in known:
            urls += [(route.path, url) for url in known[route.path]]
        else:
            assert "{" not in route.path, f"new GET route {route.path}: give this test values for its parameters"
            urls.append((route.path, route.path))
    return urls


# -- the test ---------------------------------------------------------------------------------------
def test_no_secret_reaches_any_response_page_log_attempt_dump_or_file(tmp_path, monkeypatch, capfd):
    secrets = dict(SECRETS)
    data_dir = tmp_path / "hub"
    ftp_root = tmp_path / "ftp-root"
    ftp_root.mkdir()
    surfaces: dict[str, str] = {}
    statuses: dict[str, int] = {}

    def keep(name: str, answer: Any) -> Any:
        surfaces[name] = f"{answer.status_code}\n{answer.headers}\n{answer.content.decode('utf-8', 'replace')}"
        statuses[name] = answer.status_code
        return answer

    buyer = EchoingBuyer()
    with HttpPeer() as peer, smtp_server({SMTP_USER: secrets["email smtp_password"],
                                          HUB_SMTP_USER: secrets["HUB_SMTP_URL password"]}) as (smtp_port, mails), \
            ftp_server(ftp_root, FTP_USER, secrets["ftp password"]) as ftp_port, \
            collecting_logs(production_httpx_level(monkeypatch)) as logs:
        for path in ("/basic", "/bearer", "/query", "/header", "/oauth-leads", "/sb/integrations/create_brandawareness",
                     TWILIO_PATH):
            peer.route("POST", path, buyer)
        # Fetched at run time, so known to no configuration: the channel hands it to the hub to mask.
        access_token = secrets["OAuth access token (fetched at run time)"] = "accessTok-R2d+k/6Jb-Leak"
        peer.route("POST", "/oauth/token", Answer(json={"access_token": access_token, "expires_in": 3600}))
        monkeypatch.setenv("LEAKTEST_TWILIO_TOKEN", secrets["twilio auth_token (env:)"])
        monkeypatch.setenv("HUB_SMTP_URL", f"smtp://{HUB_SMTP_USER}:{quote(secrets['HUB_SMTP_URL password'], safe='')}"
                                           f"@127.0.0.1:{smtp_port}?security=none&from=files%40hub.example")
        env = {"HUB_SECRET_KEY": secrets["HUB_SECRET_KEY"]}
        RecordingChannel.received = []
        hub = make_test_hub(data_dir, plugins=[("recorder", RecorderPlugin()), ("raiser", RaisingPlugin())], env=env)
        apply_document(hub, configuration(peer.url, smtp_port, ftp_port))
        create_admin(hub.engine, "boss@example.com", secrets["admin password"])
        invitation = invite_buyer(hub.engine, "acme", "ops@acme.example")
        accept_invite(hub.engine, invitation, secrets["buyer password"])
        secrets["buyer invitation token (used)"] = invitation
        secrets["API token"] = create_token(hub.engine, "leak-test")
        api = {"Authorization": f"Bearer {secrets['API token']}"}

        with TestClient(create_app(hub, embedded=True)) as client:
            # Leads in: the key as a header, as ?key=, and a wrong key (the refusal is a response too).
            key = secrets["source api key"]
            first = keep("POST /webhooks/form (X-API-Key)",
                         client.post("/webhooks/form", json=LEAD, headers={"X-API-Key": key}))
            assert first.status_code == 202, first.text
            second = keep("POST /webhooks/form?key=", client.post(f"/webhooks/form?key={quote(key, safe='')}", json={
                **LEAD, "first_name": "Ann", "email": "ann@example.com"}))
            assert second.status_code == 202, second.text
            keep("POST /webhooks/form (wrong key)", client.post("/webhooks/form", json=LEAD,
                                                                headers={"X-API-Key": key[:-1]}))
            lead_ids = [first.json()["lead_id"], second.json()["lead_id"]]

            def settled() -> bool:
                with Session(hub.engine) as session:
                    states = session.execute(select(Dispatch.status)).scalars().all()
                return len(states) == 2 * len(DELIVERIES) and all(s in ("accepted", "rejected", "dead") for s in states)

            wait_until(settled, timeout=60)

            # The admin: first the POSTs that render results, so their runs and flashes exist for the crawl.
            # Not posted: logout, toggle and replay (they change state and render no result), saving a
            # source or buyer (no plugin secret; a rotated source key is shown once by design, as is the
            # invitation link the invite form returns).
            token = sign_in(client, "admin", "boss@example.com", secrets["admin password"])
            post = {"headers": {"X-CSRFToken": token}}
            for slug in DELIVERIES:  # "send test": a real delivery, its attempt rendered in the page
                keep(f"POST /admin/deliveries/{slug}/test", client.post(
                    f"/admin/deliveries/{slug}/test", data={"lead_id": str(lead_ids[0])}, **post))
            for slug in EXPORTS:  # "run now": the run's outcome is flashed on the export's page
                keep(f"POST /admin/exports/{slug}/run", client.post(f"/admin/exports/{slug}/run", **post))
            with Session(hub.engine) as session:
                first_run = session.execute(select(ExportRun.id).order_by(ExportRun.id)).scalars().first()
            keep("POST /admin/exports/runs/{first}/rerun",
                 client.post(f"/admin/exports/runs/{first_run}/rerun", **post))
            # A form saved with an error is shown again, and the live preview reads the whole form: a
            # secret just typed must not come back in either.
            typed = secrets["secret typed into a form"]
            keep("POST /admin/deliveries/save (invalid)", client.post("/admin/deliveries/save", data={
                "_csrf_token": token, "channel": "http_post", "slug": "basic-crm", "sources": "form",
                "config.url": "ftp://not-http", "config.method": "POST", "config.format": "json",
                "config.auth": "basic", "config.auth@basic.username": BASIC_USER, "config.auth@basic.password": typed}))
            assert statuses["POST /admin/deliveries/save (invalid)"] == 400
            keep("POST /admin/deliveries/preview", client.post("/admin/deliveries/preview", data={
                "channel": "sms", "sources": "form", "lead_id": str(lead_ids[0]), "config": "twilio",
                "config@twilio.body": "Hi {{ first_name }}", "config@twilio.auth_token": typed,
                "config@twilio.account_sid": typed, "map_target": "Name", "map_kind": "source",
                "map_value": "first_name", "map_transforms": ""}, **post))

            # Every GET route of the route table, with real ids for its parameters.
            with Session(hub.engine) as session:
                run_ids = list(session.execute(select(ExportRun.id).order_by(ExportRun.id)).scalars())
                all_leads = list(session.execute(select(Lead.id)).scalars())
            # Every GET route is fetched; none is skipped (a new one with parameters fails route_urls).
            known = {
                "/admin/sources/{slug:str}": ["/admin/sources/form"],
                "/admin/deliveries/{slug:str}": [f"/admin/deliveries/{d}" for d in DELIVERIES],
                "/admin/exports/{slug:str}": [f"/admin/exports/{e}" for e in EXPORTS],
                "/admin/leads/{lead_id:int}": [f"/admin/leads/{i}" for i in all_leads],
                "/api/v1/leads/{lead_id:int}": [f"/api/v1/leads/{i}" for i in all_leads],
                "/admin/exports/runs/{run_id:int}/file": [f"/admin/exports/runs/{r}/file" for r in run_ids],
                "/downloads/{run_id:int}": [f"/downloads/{r}" for r in run_ids],
                # The used invitation link: the page must not echo the token it was opened with.
                "/buyer/welcome/{token:str}": [f"/buyer/welcome/{invitation}"],
                "/static/{file_path:path}": [f"/static/{p.name}" for p in Path(STATIC).iterdir() if p.is_file()],
                "/schema/{path:str}": ["/schema/openapi.json"],
                # Parameterless routes with query variants that change what is shown.
                "/admin/deliveries/new": ["/admin/deliveries/new",
                                          *(f"/admin/deliveries/new?channel={c}" for c in hub.registry.channels)],
                "/admin/exports/new": ["/admin/exports/new",
                                       *(f"/admin/exports/new?transport={t}" for t in hub.registry.transports)],
                "/admin/leads": ["/admin/leads", "/admin/leads?status=dead", "/admin/leads?status=failed",
                                 f"/admin/leads?text={PLANTED}"],
                "/api/v1/dispatches": ["/api/v1/dispatches", "/api/v1/dispatches?status=dead",
                                       "/api/v1/dispatches?status=accepted"],
                "/admin/exports/schedule-preview": ["/admin/exports/schedule-preview?schedule=0+9+*+*+MON"],
            }
            urls = route_urls(client.app, known)
            buyer_only = ("/buyer", "/downloads")
            for route, url in urls:
                if route.startswith(buyer_only):
                    continue  # fetched below, signed in as the buyer
                headers = api if route.startswith("/api/") else {}
                keep(f"GET {url} (admin)", client.get(url, headers=headers, follow_redirects=False))

            # The generated settings forms: secret inputs are never pre-filled.
            for slug in DELIVERIES:
                form = surfaces[f"GET /admin/deliveries/{slug} (admin)"]
                inputs = re.findall(r"<input[^>]*type=\"password\"[^>]*>", form)
                assert inputs, f"the {slug} form shows no secret input"
                assert not [i for i in inputs if re.search(r'value="[^"]', i)], f"{slug}: a secret input has a value"

            # The buyer: its pages and downloads.
            client.cookies.clear()
            sign_in(client, "buyer", "ops@acme.example", secrets["buyer password"])
            for route, url in urls:
                if route.startswith(buyer_only):
                    keep(f"GET {url} (buyer)", client.get(url, follow_redirects=False))

        # The records: every attempt, dispatch and export run (all columns), and every lead record.
        for model in (Attempt, Dispatch, ExportRun):
            for number, row in enumerate(rows_as_text(hub, model)):
                surfaces[f"{model.__tablename__} row {number}"] = row
        with Session(hub.engine) as session:
            for lead_id in all_leads:
                surfaces[f"lead_record({lead_id})"] = repr(lead_record(session, lead_id))
        attempts = rows_as_text(hub, Attempt)

        # The dump, in process in every format and through the command with the hub's environment.
        for fmt in ("toml", "yaml", "json"):
            surfaces[f"dump_text({fmt})"] = dump_text(dump_document(hub), fmt)  # type: ignore[arg-type]
        hub.engine.dispose()
        cli_env = {**os.environ, "HUB_DATA_DIR": str(data_dir), **env}
        for name in ("HUB_DATABASE_URL", "HUB_BROKER_URL"):
            cli_env.pop(name, None)
        cli = subprocess.run([sys.executable, "-m", "hub.cli", "dump"], env=cli_env, capture_output=True, text=True,
                             timeout=120)
        assert cli.returncode == 0, cli.stderr
        surfaces["leadhub dump (stdout)"] = cli.stdout
        surfaces["leadhub dump (stderr)"] = cli.stderr

        log_lines = list(logs.lines)
    surfaces["log lines"] = "\n".join(log_lines)
    captured = capfd.readouterr()
    surfaces["process stdout"], surfaces["process stderr"] = captured.out, captured.err

    # What the buyers received that is not the credentials themselves: the emails and the uploaded files.
    for number, mail in enumerate(mails):
        surfaces[f"email {number} sent to a buyer"] = mail.decode("utf-8", "replace")
    for path in ftp_root.rglob("*"):
        if path.is_file():
            surfaces[f"file uploaded by FTP: {path.name}"] = path.read_bytes().decode("latin-1")
    # Every file the hub wrote (the SQLite database, its WAL, the export files): secrets are sealed at rest.
    on_disk = {f"file {path.relative_to(data_dir)}": path.read_bytes().decode("latin-1")
               for path in sorted(data_dir.rglob("*")) if path.is_file()}
    surfaces.update(on_disk)

    # -- it cannot pass vacuously -------------------------------------------------------------------
    # The search itself finds a value in each spelling it claims to cover.
    for spelled in (PLANTED, quote(PLANTED + "/+"), html.escape(PLANTED),
                    base64.b64encode(f"x:{PLANTED}".encode()).decode(),
                    base64.b64encode(f"xy:{PLANTED}".encode()).decode(),
                    base64.b64encode(f"xyz:{PLANTED}".encode()).decode()):
        assert find({"probe": f"<p>{spelled}</p>"}, {"planted": PLANTED}), spelled
    # The planted (non-secret) marker is found where leads are shown, by the same search.
    where = find(surfaces, {"planted": PLANTED})
    for expected in ("attempt row", f"GET /admin/leads/{lead_ids[0]} (admin)", "POST /admin/deliveries/preview",
                     f"GET /api/v1/leads/{lead_ids[0]} (admin)", "lead_record", "file leadhub.db"):
        assert any(hit.startswith(expected) for hit in where), f"the planted marker was not found in {expected}"
    # The two leads' emails arrive in either order (deliveries run side by side): one of them has it.
    assert any(re.match(r"email \d+ sent to a buyer", hit) for hit in where), "the planted marker is in no email"
    # The surfaces are real.
    fetched = [name for name in statuses if name.startswith("GET ") and statuses[name] == 200]
    assert len(fetched) >= 50, f"only {len(fetched)} pages answered 200"
    assert not [name for name, code in statuses.items() if code >= 500], statuses
    assert statuses[f"GET /api/v1/leads/{lead_ids[0]} (admin)"] == 200
    assert statuses["GET /buyer (buyer)"] == 200 and statuses["GET /admin/deliveries/basic-crm (admin)"] == 200
    outcomes = Counter(re.search(r"'outcome': '(\w+)'", row).group(1) for row in attempts)
    assert outcomes["failed"] >= 8 and outcomes["accepted"] >= 8, outcomes
    assert len(mails) >= 3 and any(p.suffix == ".zip" for p in ftp_root.rglob("*")), "the buyers got nothing"
    assert any("channel recorder raised" in line for line in log_lines), "the log capture saw nothing"
    assert "basic-crm" in surfaces["leadhub dump (stdout)"] and MASK in surfaces["leadhub dump (stdout)"]
    assert any(name.startswith("file leadhub.db") for name in on_disk)
    assert RecordingChannel.received[0].config.token == secrets["recorder token"]  # the plugin got the real value

    # -- the point: no secret anywhere --------------------------------------------------------------
    leaks = find(surfaces, secrets)
    assert not leaks, f"{len(leaks)} secret leak(s):\n" + "\n".join(leaks[:80])
    # ...because they were masked: the buyers' echoes did carry them back.
    assert sum(MASK in row for row in attempts) >= 8, "the masking path had nothing to mask"
