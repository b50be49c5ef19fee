"""A strict SalesByte Integration API on loopback, and a way to deliver one lead to it.

The server answers ``POST /integrations/create_brandawareness`` by the documented
contract, the way SalesByte's Laravel backend does: 422 with
``{"message", "errors": {field: [..]}}`` for a bad body, 404 naming the unknown
integration, profile or salesperson, 200 with the quote id and its links. It is
stricter than SalesByte on one point: a field the API does not know is a 422, so
a typo in the body builder cannot pass unnoticed.
"""

from __future__ import annotations

import json
import os
import re
import socket
import threading
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from leadhub_salesbyte.channel import SalesByteChannel
from leadhub_salesbyte.config import SalesByteConfig

from hub.plugins.configs import decode_config
from hub.plugins.contract import DeliveryResult
from hub.testing.context import hub_http_client, make_delivery_context

EXAMPLE = Path(__file__).resolve().parents[4] / "shared" / "examples" / "hub.toml"
PATH = "/integrations/create_brandawareness"
UUID = "5b1f6c2e-integration-config"
PROFILE = 12
SALESPEOPLE = {"ann@acme.example", "bob@acme.example"}
REQUIRED = {"uuid": str, "quote_profile_id": int, "customer_name": str, "chat_enabled": bool,
            "workflows_enabled": bool, "allow_customer_document_upload": bool,
            "trigger_created_messages_to_customer": bool, "send_type": str, "type": str}
NULLABLE_TEXT = {"customer_phone", "customer_email", "customer_company", "message",
                 *(f"custom_field_{n}_content" for n in range(1, 11)), *(f"tag_{n}" for n in range(1, 11))}
TYPE_RULES = {str: "must be a string", int: "must be an integer", bool: "must be true or false"}
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _is(value: Any, kind: type) -> bool:
    # JSON true is not an integer, and 1 is not a boolean: SalesByte's body is typed.
    return isinstance(value, kind) and (kind is bool or not isinstance(value, bool))


def validation_errors(body: Any) -> dict[str, list[str]]:
    """Laravel-style errors of a Create Lead body; empty when it is valid."""
    if not isinstance(body, dict):
        body = {}
    errors: dict[str, list[str]] = {}

    def say(name: str, rule: str) -> None:
        errors.setdefault(name, []).append(f"The {name.replace('_', ' ')} field {rule}.")

    for name, kind in REQUIRED.items():
        value = body.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            say(name, "is required")
        elif not _is(value, kind):
            say(name, TYPE_RULES[kind])
    for name, value in body.items():
        if name in REQUIRED or value is None:
            continue
        if name in NULLABLE_TEXT:
            if not isinstance(value, str):
                say(name, "must be a string")
        elif name == "salesperson_email":
            emails = value if isinstance(value, list) else [value]
            if not emails or not all(isinstance(e, str) and EMAIL.match(e) for e in emails):
                say(name, "must be a valid email address or a list of them")
        else:
            say(name, "is not part of the Create Lead API")
    return errors


@dataclass
class Request:
    """One request as SalesByte received it."""

    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class SalesByteServer:
    """A SalesByte on 127.0.0.1 that records every request; tell it to fail, hang or vary its links."""

    profiles: set[int] = field(default_factory=lambda: {PROFILE})
    salespeople: set[str] = field(default_factory=lambda: set(SALESPEOPLE))
    links: str = "all"  # all | omit (the last two absent) | null (the last two null)
    answer_with: tuple[int, Any] | None = None  # (status, JSON) to give instead of a real answer
    hanging: bool = False  # read the request, then say nothing until the server stops
    requests: list[Request] = field(default_factory=list)
    next_id: int = 100
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stopping: threading.Event = field(default_factory=threading.Event)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "start the server first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def last(self) -> dict[str, Any]:
        """The JSON body of the latest request."""
        return self.requests[-1].json()

    def answer(self, request: Request) -> tuple[int, Any] | None:
        """The status and JSON for a request, or None to hang."""
        with self._lock:
            self.requests.append(request)
            if self.hanging:
                return None
            if self.answer_with is not None:
                return self.answer_with
        if request.method != "POST" or request.path != PATH:
            return 404, {"message": f"The route {request.path.lstrip('/')} could not be found."}
        if request.headers.get("content-type") != "application/json":
            return 415, {"message": "Send the body as application/json."}
        try:
            body = request.json()
        except ValueError:
            body = None
        if errors := validation_errors(body):
            first = next(iter(errors.values()))[0]
            more = f" (and {len(errors) - 1} more error{'s' if len(errors) > 2 else ''})" if len(errors) > 1 else ""
            return 422, {"message": first + more, "errors": errors}
        return self._create(body)

    def _create(self, body: dict[str, Any]) -> tuple[int, Any]:
        if body["uuid"] != UUID:
            return 404, {"message": "Integration configuration not found."}
        if body["quote_profile_id"] not in self.profiles:
            return 404, {"message": f"Quote profile {body['quote_profile_id']} not found."}
        wanted = body.get("salesperson_email")
        for email in [wanted] if isinstance(wanted, str) else wanted or []:
            if email not in self.salespeople:
                return 404, {"message": f"No salesperson with email {email}."}
        with self._lock:
            self.next_id += 1
            quote = self.next_id
        base = f"https://acme.salesbyte.example/quotes/{quote}"
        links: dict[str, Any] = {"edit": f"{base}/edit", "customer_view": f"{base}/view"}
        if self.links == "all":
            links |= {"customer_verificate": f"{base}/verify", "customer_project_approval": f"{base}/approve"}
        elif self.links == "null":
            links |= {"customer_verificate": None, "customer_project_approval": None}
        return 200, {"id": quote, "links": links}

    def start(self) -> SalesByteServer:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                         name="salesbyte", daemon=True).start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # releases hanging handlers
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def wait_stopping(self, timeout: float) -> None:
        self._stopping.wait(timeout)


def _handler(salesbyte: SalesByteServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            if self.command == "POST" and "content-length" not in self.headers:
                self._send(411, {"message": "Length Required."})
                return
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            path = self.path.split("?", 1)[0]
            headers = {k.lower(): v for k, v in self.headers.items()}
            answer = salesbyte.answer(Request(self.command, path, headers, body))
            if answer is None:
                salesbyte.wait_stopping(timeout=30)
                self.close_connection = True
                return
            self._send(*answer)

        do_POST = do_GET = do_PUT = _serve

        def _send(self, status: int, payload: Any) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
            pass

    return Handler


@pytest.fixture
def salesbyte() -> Iterator[SalesByteServer]:
    server = SalesByteServer().start()
    yield server
    server.stop()


@pytest.fixture
def settings(salesbyte: SalesByteServer) -> dict[str, Any]:
    """The example's salesbyte settings, pointed at the local SalesByte."""
    return {"base_url": salesbyte.url, "uuid": UUID, "quote_profile_id": PROFILE, "send_type": "email",
            "type": "brand_awareness", "chat_enabled": True, "workflows_enabled": True,
            "allow_customer_document_upload": False, "trigger_created_messages_to_customer": True,
            "salesperson_email": ["ann@acme.example", "bob@acme.example"]}


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with hub_http_client() as client:
        yield client


@pytest.fixture
def deliver(settings: dict[str, Any], http: httpx.Client) -> Callable[..., DeliveryResult]:
    """Deliver one mapped lead ``payload``; keyword arguments override settings."""

    def deliver(payload: dict[str, Any], **overrides: Any) -> DeliveryResult:
        config = decode_config(SalesByteConfig, {**settings, **overrides})
        return SalesByteChannel().deliver(make_delivery_context(config, payload, http=http))

    return deliver


@pytest.fixture
def example() -> dict[str, Any]:
    """The shared example hub.toml, parsed (it lives beside the repository, not in it)."""
    if not EXAMPLE.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{EXAMPLE} is missing")
        pytest.skip(f"{EXAMPLE} not found")
    return tomllib.loads(EXAMPLE.read_text())


@pytest.fixture
def closed_port() -> int:
    """A loopback port nobody listens on (connections to it are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
