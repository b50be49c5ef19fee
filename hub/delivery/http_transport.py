"""An httpx transport on plain sockets and httptools' parser, with keep-alive connections per origin.

Channels keep the httpx API (``ctx.http.post(...)``); only the layer under it
changes. The delivery path is CPU-bound on the HTTP client (STACK-NOTES): on
this machine httpx's default sync transport (httpcore + h11) cost about 1.2 ms
of CPU per request, ``http.client`` 0.4 ms, most of it parsing the answer's
headers with the ``email`` package; httptools (llhttp, in C, the parser
uvicorn uses) parses them for next to nothing. HTTP/1.1 only, which is what
buyers' APIs speak. Errors become the httpx exceptions channels already
handle (timeouts, connect errors, protocol errors).
"""

from __future__ import annotations

import re
import select
import socket
import ssl
import struct
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

import httptools
import httpx

Origin = tuple[str, str, int]
RECENT_SECONDS = 1.0  # a connection idle for less than this is reused without the stale check
_LINE_BREAK = re.compile(rb"[\r\n\0]")


class Disconnected(Exception):
    """The server closed the connection before any byte of an answer."""


class _Answer:
    """Collects one response from httptools' callbacks."""

    def __init__(self, head: bool) -> None:
        self.head = head  # an answer to HEAD has no body, whatever its Content-Length says
        self.parser = httptools.HttpResponseParser(self)
        self.headers: list[tuple[bytes, bytes]] = []
        self.headers_done = False
        self.body: list[bytes] = []
        self.complete = False
        self.keep_alive = False
        self.trailing = False  # bytes came after the answer: the connection is out of step

    def feed(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            if not self.complete:
                raise
            self.trailing = True

    def on_message_begin(self) -> None:
        self.trailing = self.complete

    def on_header(self, name: bytes, value: bytes) -> None:
        if not self.complete:
            self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        self.headers_done = True
        if self.head:
            self.on_message_complete()

    def on_body(self, body: bytes) -> None:
        if not self.complete:
            self.body.append(body)

    def on_message_complete(self) -> None:
        if self.complete:
            return
        if 100 <= self.parser.get_status_code() < 200:  # an interim answer (100 Continue): the real one follows
            self.headers, self.headers_done, self.body = [], False, []
            return
        self.complete = True
        self.keep_alive = self.parser.should_keep_alive()


class SocketTransport(httpx.BaseTransport):
    """Sends each request on an idle kept-alive connection to its origin, or a new one."""

    def __init__(self, ssl_context: ssl.SSLContext | None = None, max_idle_per_origin: int = 32) -> None:
        self.ssl_context = ssl_context or httpx.create_ssl_context()
        self.max_idle_per_origin = max_idle_per_origin
        self._idle: dict[Origin, list[tuple[socket.socket, float]]] = defaultdict(list)  # with when each went idle
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        origin: Origin = (url.scheme, url.host, url.port or (443 if url.scheme == "https" else 80))
        timeout = request.extensions.get("timeout", {})
        message = _serialize(request)
        sock = self._idle_connection(origin)
        if sock is not None:
            try:
                return self._exchange(origin, sock, message, timeout)
            except (Disconnected, BrokenPipeError):
                # The server had closed the kept-alive connection (a clean close with no answer, or
                # a write to a closed socket): send once more on a new connection. A reset is not
                # retried here: the buyer may have taken the lead before it failed.
                pass
        try:
            return self._exchange(origin, self._connect(origin, timeout.get("connect")), message, timeout)
        except Disconnected as exc:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.") from exc
        except BrokenPipeError as exc:
            raise httpx.WriteError(str(exc)) from exc

    def _exchange(self, origin: Origin, sock: socket.socket, message: bytes,
                  timeout: dict[str, float | None]) -> httpx.Response:
        """Send the request and read the whole answer; the connection goes back to the pool or is closed."""
        answer = _Answer(head=message.startswith(b"HEAD "))
        try:
            with _mapped_errors(phase="write"):
                _set_timeout(sock, timeout.get("write"), socket.SO_SNDTIMEO)
                sock.sendall(message)
            with _mapped_errors(phase="read"):
                _set_timeout(sock, timeout.get("read"), socket.SO_RCVTIMEO)
                received = False
                while not answer.complete:
                    data = sock.recv(65536)
                    if not data:
                        if not received:
                            raise Disconnected()
                        # No length and no chunks: the body ends where the connection does.
                        if answer.headers_done and not any(
                                n.lower() in (b"content-length", b"transfer-encoding") for n, _ in answer.headers):
                            break
                        raise httpx.RemoteProtocolError("Server disconnected in the middle of its answer.")
                    received = True
                    answer.feed(data)
        except BaseException:
            sock.close()
            raise
        if answer.complete and answer.keep_alive and not answer.trailing:
            self._checkin(origin, sock)
        else:
            sock.close()
        return httpx.Response(
            answer.parser.get_status_code(),
            headers=answer.headers,
            stream=httpx.ByteStream(b"".join(answer.body)),
            extensions={"http_version": f"HTTP/{answer.parser.get_http_version()}".encode()},
        )

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, defaultdict(list)
        for connections in idle.values():
            for sock, _ in connections:
                sock.close()

    def _idle_connection(self, origin: Origin) -> socket.socket | None:
        with self._lock:
            idle = self._idle.get(origin)
            while idle:
                sock, since = idle.pop()
                # An idle connection with something to read was closed by the server (or is
                # broken): sending on it would fail, or worse, half succeed. httpcore does the same.
                # One idle for under a second is not checked: no server's keep-alive timeout is
                # that short, and the check is a syscall that hands the GIL over (a clean close
                # is still caught, by resending once).
                if time.monotonic() - since < RECENT_SECONDS or not select.select([sock], [], [], 0)[0]:
                    return sock
                sock.close()
        return None

    def _connect(self, origin: Origin, connect_timeout: float | None) -> socket.socket:
        scheme, host, port = origin
        if scheme not in ("http", "https"):
            raise httpx.UnsupportedProtocol(f"cannot send to a {scheme!r} URL")
        with _mapped_errors(phase="connect"):
            sock = socket.create_connection((host, port), timeout=connect_timeout)
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                if scheme == "https":
                    sock = self.ssl_context.wrap_socket(sock, server_hostname=host)
                else:
                    sock.settimeout(None)  # blocking, with the kernel's timeouts (see _set_timeout)
            except BaseException:
                sock.close()
                raise
        return sock

    def _checkin(self, origin: Origin, sock: socket.socket) -> None:
        with self._lock:
            idle = self._idle[origin]
            if len(idle) < self.max_idle_per_origin:
                idle.append((sock, time.monotonic()))
                return
        sock.close()


def _set_timeout(sock: socket.socket, seconds: float | None, option: int) -> None:
    """Set the send (SO_SNDTIMEO) or receive (SO_RCVTIMEO) timeout for the next exchange."""
    if isinstance(sock, ssl.SSLSocket):
        # Python's TLS sockets wait (poll) only when no data is ready, so their own timeout costs nothing.
        if sock.gettimeout() != seconds:
            sock.settimeout(seconds)
        return
    # A plain socket with a Python timeout polls before every send and recv, and each poll hands
    # the GIL over: with a dozen delivery threads that was a third of a try's context switches.
    # Plain sockets stay blocking, with the kernel's timeouts (set without letting go of the GIL).
    sock.setsockopt(socket.SOL_SOCKET, option, _timeval(seconds))


@lru_cache(maxsize=64)
def _timeval(seconds: float | None) -> bytes:
    """A ``struct timeval``; zero means wait for ever."""
    if seconds is None:
        return struct.pack("@ll", 0, 0)
    micros = max(round(seconds * 1_000_000), 1)
    return struct.pack("@ll", micros // 1_000_000, micros % 1_000_000)


def _serialize(request: httpx.Request) -> bytes:
    """The request as HTTP/1.1 bytes (httpx has set Host and the body's length or chunking)."""
    body = request.read()
    lines = [b"%s %s HTTP/1.1" % (request.method.encode("ascii"), request.url.raw_path)]
    for name, value in request.headers.raw:
        # A line break in a header (say, from a lead's field in a templated header) would start
        # a header or a request of its own.
        if _LINE_BREAK.search(name) or _LINE_BREAK.search(value):
            raise httpx.LocalProtocolError(f"the header {name.decode('latin-1')!r} holds a line break")
        lines.append(name + b": " + value)
    if request.headers.get("transfer-encoding", "").lower() == "chunked":
        body = (b"%x\r\n%s\r\n" % (len(body), body) if body else b"") + b"0\r\n\r\n"
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


@contextmanager
def _mapped_errors(phase: str) -> Iterator[None]:
    """Raise what httpx's own transport raises for the same failure."""
    try:
        yield
    except (Disconnected, BrokenPipeError, httpx.HTTPError):
        raise  # mapped by the caller, which may send again on a new connection
    except (socket.timeout, BlockingIOError) as exc:  # a blocking socket's EAGAIN: its kernel timeout ran out
        kind = {"connect": httpx.ConnectTimeout, "write": httpx.WriteTimeout}.get(phase, httpx.ReadTimeout)
        raise kind("timed out") from exc
    except httptools.HttpParserError as exc:  # a malformed status line, headers or body
        raise httpx.RemoteProtocolError(f"{type(exc).__name__}: {exc}") from exc
    except (ssl.SSLError, ssl.CertificateError) as exc:
        raise httpx.ConnectError(str(exc)) from exc
    except OSError as exc:
        kind = {"connect": httpx.ConnectError, "write": httpx.WriteError}.get(phase, httpx.ReadError)
        raise kind(str(exc)) from exc
