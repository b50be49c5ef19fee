"""An httpx transport on the standard library's ``http.client``, with keep-alive connections per origin.

Channels keep the httpx API (``ctx.http.post(...)``); only the layer under it
changes. The delivery path is CPU-bound on the HTTP client (STACK-NOTES), and
on this machine httpx's default sync transport (httpcore + h11) cost about
1.2 ms of CPU per request against 0.4 ms for ``http.client``. HTTP/1.1 only,
which is what buyers' APIs speak. Errors become the httpx exceptions channels
already handle (timeouts, connect errors, protocol errors).
"""

from __future__ import annotations

import http.client
import select
import socket
import ssl
import threading
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

Origin = tuple[str, str, int]


class StdlibTransport(httpx.BaseTransport):
    """Sends each request on an idle kept-alive connection to its origin, or a new one."""

    def __init__(self, ssl_context: ssl.SSLContext | None = None, max_idle_per_origin: int = 32) -> None:
        self.ssl_context = ssl_context or httpx.create_ssl_context()
        self.max_idle_per_origin = max_idle_per_origin
        self._idle: dict[Origin, list[http.client.HTTPConnection]] = defaultdict(list)
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        origin: Origin = (url.scheme, url.host, url.port or (443 if url.scheme == "https" else 80))
        timeout = request.extensions.get("timeout", {})
        body = request.read()
        conn = self._idle_connection(origin)
        if conn is not None:
            try:
                return self._exchange(origin, conn, request, body, timeout)
            except (http.client.RemoteDisconnected, BrokenPipeError):
                # The server had closed the kept-alive connection (a clean close with no answer, or
                # a write to a closed socket): send once more on a new connection. A reset is not
                # retried here: the buyer may have taken the lead before it failed.
                pass
        try:
            return self._exchange(origin, self._connect(origin, timeout.get("connect")), request, body, timeout)
        except http.client.RemoteDisconnected as exc:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.") from exc
        except BrokenPipeError as exc:
            raise httpx.WriteError(str(exc)) from exc

    def _exchange(self, origin: Origin, conn: http.client.HTTPConnection, request: httpx.Request, body: bytes,
                  timeout: dict[str, float | None]) -> httpx.Response:
        """Send the request and read the whole answer; the connection goes back to the pool or is closed."""
        try:
            with _mapped_errors(phase="write"):
                conn.sock.settimeout(timeout.get("write"))  # type: ignore[union-attr]
                conn.putrequest(request.method, request.url.raw_path.decode("ascii"), skip_host=True,
                                skip_accept_encoding=True)
                for name, value in request.headers.raw:
                    conn.putheader(name, value)
                conn.endheaders(body or None, encode_chunked="transfer-encoding" in request.headers)
            with _mapped_errors(phase="read"):
                conn.sock.settimeout(timeout.get("read"))  # type: ignore[union-attr]
                answer = conn.getresponse()
                content = answer.read()
        except BaseException:
            conn.close()
            raise
        if answer.will_close:
            conn.close()
        else:
            self._checkin(origin, conn)
        return httpx.Response(
            answer.status,
            headers=[(k.encode("latin-1"), v.encode("latin-1")) for k, v in answer.getheaders()],
            stream=httpx.ByteStream(content),
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": answer.reason.encode("latin-1")},
        )

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, defaultdict(list)
        for connections in idle.values():
            for conn in connections:
                conn.close()

    def _idle_connection(self, origin: Origin) -> http.client.HTTPConnection | None:
        with self._lock:
            idle = self._idle.get(origin)
            while idle:
                conn = idle.pop()
                # An idle connection with something to read was closed by the server (or is
                # broken): sending on it would fail, or worse, half succeed. httpcore does the same.
                if conn.sock is not None and not select.select([conn.sock], [], [], 0)[0]:
                    return conn
                conn.close()
        return None

    def _connect(self, origin: Origin, connect_timeout: float | None) -> http.client.HTTPConnection:
        scheme, host, port = origin
        conn: http.client.HTTPConnection
        if scheme == "https":
            conn = http.client.HTTPSConnection(host, port, timeout=connect_timeout, context=self.ssl_context)
        elif scheme == "http":
            conn = http.client.HTTPConnection(host, port, timeout=connect_timeout)
        else:
            raise httpx.UnsupportedProtocol(f"cannot send to a {scheme!r} URL")
        with _mapped_errors(phase="connect"):
            conn.connect()
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # type: ignore[union-attr]
        return conn

    def _checkin(self, origin: Origin, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._idle[origin]
            if len(idle) < self.max_idle_per_origin:
                idle.append(conn)
                return
        conn.close()


@contextmanager
def _mapped_errors(phase: str) -> Iterator[None]:
    """Raise what httpx's own transport raises for the same failure."""
    try:
        yield
    except (http.client.RemoteDisconnected, BrokenPipeError):
        raise  # mapped by the caller, which may send again on a new connection
    except socket.timeout as exc:
        kind = {"connect": httpx.ConnectTimeout, "write": httpx.WriteTimeout}.get(phase, httpx.ReadTimeout)
        raise kind(str(exc) or "timed out") from exc
    except http.client.HTTPException as exc:  # a malformed status line, headers or body
        raise httpx.RemoteProtocolError(f"{type(exc).__name__}: {exc}") from exc
    except (ssl.SSLError, ssl.CertificateError) as exc:
        raise httpx.ConnectError(str(exc)) from exc
    except OSError as exc:
        kind = {"connect": httpx.ConnectError, "write": httpx.WriteError}.get(phase, httpx.ReadError)
        raise kind(str(exc)) from exc
