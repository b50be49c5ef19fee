"""The hub's HTTP transport (sockets and httptools under httpx) against real servers on loopback."""

from __future__ import annotations

import gzip
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from hub.delivery import http_transport
from hub.delivery.http_transport import SocketTransport, _serialize
from hub.testing.http_peer import RESET, Answer, Hang, HttpPeer
from hub.testing.tls import self_signed_certificate


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(transport=SocketTransport(), timeout=2.0) as http:
        yield http


def test_posts_headers_and_body_and_reads_the_answer(client: httpx.Client, http_peer: HttpPeer) -> None:
    http_peer.respond(status=201, json={"id": "B-1"}, headers={"X-Trace": "t1"})
    answer = client.post(f"{http_peer.url}/leads?x=1", json={"name": "Zoë"}, headers={"Idempotency-Key": "k-1"})
    assert (answer.status_code, answer.json(), answer.headers["x-trace"]) == (201, {"id": "B-1"}, "t1")
    (request,) = http_peer.wait_for(1)
    assert (request.method, request.path, request.query) == ("POST", "/leads", {"x": ["1"]})
    assert request.json() == {"name": "Zoë"} and request.headers["idempotency-key"] == "k-1"
    assert request.headers["host"] == http_peer.url.removeprefix("http://")


@pytest.mark.parametrize("recent_seconds", [1.0, 0.0], ids=["found-by-resending", "found-by-stale-check"])
def test_keeps_connections_alive_and_replaces_ones_the_server_closed(client: httpx.Client, recent_seconds: float,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # A connection idle for under RECENT_SECONDS is reused unchecked; one the server closed meanwhile
    # gets a clean close on sending, and the request goes once more on a new connection.
    monkeypatch.setattr(http_transport, "RECENT_SECONDS", recent_seconds)
    with _server(close_after_each=False) as (url, connections):
        for _ in range(5):
            assert client.get(url).text == "ok"
        assert len(connections) == 1  # one connection, kept alive
    with _server(close_after_each=True) as (url, connections):
        for _ in range(3):
            assert client.get(url).text == "ok"  # the server closes each idle connection: a new one each time
        assert len(connections) == 3


def test_timeouts_and_broken_connections_raise_what_httpx_raises(client: httpx.Client, http_peer: HttpPeer) -> None:
    http_peer.queue(Hang(3), RESET, Answer(status=200, body="fine"))
    with pytest.raises(httpx.ReadTimeout):
        client.post(f"{http_peer.url}/leads", json={}, timeout=httpx.Timeout(0.3))
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        client.post(f"{http_peer.url}/leads", json={})
    assert client.post(f"{http_peer.url}/leads", json={}).text == "fine"
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    with pytest.raises(httpx.ConnectError):
        client.get(f"http://127.0.0.1:{port}/")


def test_a_buyer_that_stops_reading_or_answering_times_out_on_time(client: httpx.Client, http_peer: HttpPeer) -> None:
    # Plain sockets wait with the kernel's timeouts (SO_SNDTIMEO/SO_RCVTIMEO), not Python's.
    http_peer.queue(Hang(3))
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout, match="timed out"):
        client.post(f"{http_peer.url}/leads", json={}, timeout=httpx.Timeout(5, read=0.4))
    assert 0.35 < time.monotonic() - started < 2.5
    with socket.socket() as listener:  # accepts, then never reads: the send buffers fill up
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        started = time.monotonic()
        with pytest.raises(httpx.WriteTimeout, match="timed out"):
            client.post(f"http://127.0.0.1:{listener.getsockname()[1]}/", content=b"x" * 64_000_000,
                        timeout=httpx.Timeout(5, write=0.4))
        assert time.monotonic() - started < 4


def test_gzip_and_chunked_answers_are_decoded(client: httpx.Client) -> None:
    with _server(gzip_chunked=True) as (url, _):
        answer = client.get(url)
    assert answer.text == "ok" * 1000


def test_head_answers_have_no_body_and_close_delimited_bodies_end_at_the_close(client: httpx.Client) -> None:
    with _server() as (url, connections):
        assert client.head(url).headers["content-length"] == "2"  # no body is waited for
        assert client.get(url).text == "ok"
        assert len(connections) == 1  # and the connection was still good for the next request
    with _server(close_delimited=True) as (url, _):
        assert client.get(url).text == "ok until the close"


def test_an_interim_answer_is_skipped_for_the_real_one(client: httpx.Client) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()

        def answer_once() -> None:
            conn, _ = listener.accept()
            with conn:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n"
                             b"HTTP/1.1 201 Created\r\nX-Id: B-7\r\nContent-Length: 2\r\n\r\nok")

        thread = threading.Thread(target=answer_once, daemon=True)
        thread.start()
        answer = client.post(f"http://127.0.0.1:{listener.getsockname()[1]}/leads", json={})
        thread.join(timeout=5)
    assert (answer.status_code, answer.headers["x-id"], answer.text) == (201, "B-7", "ok")


def test_a_line_break_in_a_header_is_refused_not_sent(client: httpx.Client, http_peer: HttpPeer) -> None:
    with pytest.raises(httpx.LocalProtocolError, match="line break"):
        client.post(f"{http_peer.url}/leads", json={}, headers={"X-Name": "Ann\r\nX-Injected: yes"})
    assert http_peer.requests == []


def test_a_streamed_body_is_sent_as_one_chunk() -> None:
    streamed = httpx.Request("POST", "http://buyer.example/leads?x=1", content=iter([b'{"name":', b' "Ann"}']))
    assert _serialize(streamed) == (b"POST /leads?x=1 HTTP/1.1\r\nHost: buyer.example\r\nTransfer-Encoding: chunked\r\n\r\n"
                                    b'f\r\n{"name": "Ann"}\r\n0\r\n\r\n')
    empty = httpx.Request("POST", "http://buyer.example/", content=iter([]))
    assert _serialize(empty).endswith(b"\r\n\r\n0\r\n\r\n")


def test_tls_is_verified_against_the_given_context(tmp_path) -> None:  # type: ignore[no-untyped-def]
    cert, key = self_signed_certificate(tmp_path)
    with _server(tls=(cert, key)) as (url, _):
        with httpx.Client(transport=SocketTransport()) as untrusting:
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                untrusting.get(url)
        trusting = ssl.create_default_context(cafile=str(cert))
        with httpx.Client(transport=SocketTransport(ssl_context=trusting)) as client:
            assert client.get(url).text == "ok"


@contextmanager
def _server(*, close_after_each: bool = False, gzip_chunked: bool = False, close_delimited: bool = False,
            tls: tuple | None = None) -> Iterator[tuple[str, list[int]]]:
    """A tiny HTTP/1.1 server answering "ok"; yields its URL and the client ports it saw."""
    connections: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            connections.append(self.client_address[1])

        def do_HEAD(self) -> None:  # noqa: N802 - the http.server API
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()

        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            if close_delimited:  # no length, no chunks: the body is whatever comes before the close
                self.send_response(200)
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(b"ok until the close")
                self.close_connection = True
                return
            if gzip_chunked:
                data = gzip.compress(b"ok" * 1000)
                self.send_response(200)
                self.send_header("Content-Encoding", "gzip")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for start in range(0, len(data), 100):
                    piece = data[start:start + 100]
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                self.wfile.write(b"0\r\n\r\n")
                return
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")
            if close_after_each:
                self.wfile.flush()
                self.close_connection = True  # closes after answering, without saying so

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    scheme = "http"
    if tls:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(tls[0]), str(tls[1]))
        server.socket = context.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"{scheme}://127.0.0.1:{server.server_address[1]}/", connections
    finally:
        server.shutdown()
        server.server_close()


def test_the_shared_delivery_client_sends_no_cookie_a_buyer_set(http_peer: HttpPeer) -> None:
    # Shared by every delivery: a kept session cookie would ride along on other deliveries' requests.
    from hub.delivery.service import make_http_client

    http_peer.respond(status=200, body="ok", headers={"Set-Cookie": "session=buyer-a-account; Path=/"})
    with make_http_client(threads=2) as client:
        client.post(f"{http_peer.url}/leads", json={})
        client.post(f"{http_peer.url}/leads", json={})
        assert not client.cookies  # nothing kept to inspect either
        with pytest.raises(ValueError, match="keeps no cookies"):
            client.cookies = {"session": "x"}  # a plugin that tries is told why, instead of being ignored
    first, second = http_peer.wait_for(2)
    assert "cookie" not in first.headers and "cookie" not in second.headers
