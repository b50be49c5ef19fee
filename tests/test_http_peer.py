"""The test kit's HTTP peer: recording, scripted answers, hangs and resets."""

from __future__ import annotations

import httpx
import pytest

from hub.testing.http_peer import RESET, Answer, Hang, HttpPeer


def test_records_requests_and_answers_in_order(http_peer):
    http_peer.respond(status=202, json={"ok": True})
    http_peer.queue(Answer(status=500, body="boom"))
    http_peer.route("POST", "/token", Answer(json={"t": 1}))
    with httpx.Client() as client:
        assert client.post(f"{http_peer.url}/a?x=1", data={"f": "v"}).status_code == 500
        assert client.post(f"{http_peer.url}/a", json={"k": "ü"}).json() == {"ok": True}
        assert client.post(f"{http_peer.url}/token").json() == {"t": 1}
        assert client.get(f"{http_peer.url}/a").status_code == 202
    first, second, token, third = http_peer.wait_for(4)
    assert first.query == {"x": ["1"]} and first.form() == {"f": "v"}
    assert second.json() == {"k": "ü"} and second.headers["Content-Type"] == "application/json"
    assert token.path == "/token" and third.method == "GET"
    assert http_peer.to("/token") == [token]


def test_callable_answers_see_the_request(http_peer):
    http_peer.respond()
    http_peer.queue(lambda request: Answer(json={"echo": request.json()["n"] * 2}))
    assert httpx.post(http_peer.url, json={"n": 21}).json() == {"echo": 42}


def test_reset_and_hang(http_peer):
    http_peer.queue(RESET, Hang(10))
    with pytest.raises(httpx.TransportError):
        httpx.post(http_peer.url, json={})
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(http_peer.url, json={}, timeout=0.2)


def test_wait_for_fails_clearly():
    with HttpPeer() as peer, pytest.raises(AssertionError, match="expected 1 requests within 0.1s, got 0"):
        peer.wait_for(1, timeout=0.1)
