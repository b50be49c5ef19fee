"""A real HTTP server on loopback that records requests and answers as a test tells it to.

    with HttpPeer() as peer:
        peer.queue(Answer(status=503), RESET, Hang(5))   # one-shot answers, in order
        peer.respond(status=200, json={"id": 7})         # then this, every time
        peer.route("POST", "/token", Answer(json={"access_token": "t", "expires_in": 60}))
        ... point the code under test at peer.url ...
        (request,) = peer.wait_for(1)
"""

from __future__ import annotations

import json as jsonlib
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from httpx import Headers


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: Headers
    body: bytes
    received_at: float  # time.monotonic()

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return jsonlib.loads(self.body)

    def form(self) -> dict[str, str]:
        """The url-encoded body as a dict (the last value of a repeated key)."""
        return {k: v[-1] for k, v in parse_qs(self.text, keep_blank_values=True).items()}


@dataclass
class Answer:
    status: int = 200
    body: str | bytes = ""
    json: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering


@dataclass(frozen=True)
class Hang:
    """Read the request, then say nothing for ``seconds`` (a buyer past its timeout)."""

    seconds: float = 30.0


RESET = object()  # close the connection abruptly (TCP RST) instead of answering
Reply = Answer | Hang | object | Callable[[RecordedRequest], Answer]


class HttpPeer:
    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._default: Reply = Answer()
        self._queue: list[Reply] = []
        self._routes: dict[tuple[str, str], Reply] = {}
        self._cond = threading.Condition()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- telling it what to say -------------------------------------------------
    def respond(self, status: int = 200, json: Any = None, body: str | bytes = "",
                headers: dict[str, str] | None = None, delay: float = 0.0) -> None:
        """The answer given whenever no queued or routed answer applies."""
        with self._cond:
            self._default = Answer(status=status, json=json, body=body, headers=headers or {}, delay=delay)

    def queue(self, *answers: Reply) -> None:
        """One-shot answers, used in order before the default."""
        with self._cond:
            self._queue.extend(answers)

    def route(self, method: str, path: str, answer: Reply) -> None:
        """Always answer ``method path`` with ``answer`` (e.g. a token endpoint)."""
        with self._cond:
            self._routes[(method.upper(), path)] = answer

    # -- looking at what it got -------------------------------------------------
    @property
    def url(self) -> str:
        assert self._server is not None, "start the peer first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def wait_for(self, count: int, timeout: float = 5.0) -> list[RecordedRequest]:
        """Block until ``count`` requests have arrived; returns them all."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.requests) >= count, timeout=timeout):
                got = [f"{r.method} {r.path}" for r in self.requests]
                raise AssertionError(f"expected {count} requests within {timeout}s, got {len(got)}: {got}")
            return list(self.requests)

    def to(self, path: str) -> list[RecordedRequest]:
        with self._cond:
            return [r for r in self.requests if r.path == path]

    # -- lifecycle -----------------------------------------------------------------
    def start(self) -> HttpPeer:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="http-peer", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> HttpPeer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _next_reply(self, request: RecordedRequest) -> Reply:
        with self._cond:
            self.requests.append(request)
            self._cond.notify_all()
            routed = self._routes.get((request.method, request.path))
            if routed is not None:
                return routed
            return self._queue.pop(0) if self._queue else self._default


def _handler_for(peer: HttpPeer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:  # keep test output clean
            pass

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            parts = urlsplit(self.path)
            request = RecordedRequest(
                method=self.command, path=parts.path, query=parse_qs(parts.query, keep_blank_values=True),
                # http.server decodes header bytes as Latin-1; undo that so UTF-8 values read right.
                headers=Headers([(k, v.encode("latin-1")) for k, v in self.headers.items()]), body=body,
                received_at=time.monotonic())
            reply = peer._next_reply(request)
            if callable(reply) and not isinstance(reply, (Answer, Hang)):
                reply = reply(request)
            if reply is RESET:
                # SO_LINGER 0 makes close() send a RST: the client sees "connection reset".
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
                self.close_connection = True
                return
            if isinstance(reply, Hang):
                peer._stopping.wait(reply.seconds)
                self.close_connection = True
                return
            assert isinstance(reply, Answer)
            if reply.delay:
                peer._stopping.wait(reply.delay)
            payload = jsonlib.dumps(reply.json).encode() if reply.json is not None else (
                reply.body.encode() if isinstance(reply.body, str) else reply.body)
            try:
                self.send_response(reply.status)
                headers = {"Content-Type": "application/json" if reply.json is not None else "text/plain; charset=utf-8",
                           **reply.headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (its timeout)
                self.close_connection = True

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle

    return Handler
