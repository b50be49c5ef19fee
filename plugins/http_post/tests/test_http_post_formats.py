"""What the buyer receives, in each format, method and auth kind."""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET

from hub.testing.http_peer import Answer


def test_json_is_posted_with_a_stable_idempotency_key(deliver, http_peer):
    assert deliver(dispatch_id=42).is_accepted
    assert deliver(dispatch_id=42, attempt=2).is_accepted
    first, retry = http_peer.wait_for(2)
    assert first.method == "POST" and first.path == "/leads"
    assert first.json() == {"FirstName": "Zoë", "Email": "zoe@example.com", "Age": 41, "Consent": True}
    assert first.headers["content-type"] == "application/json"
    assert first.headers["idempotency-key"] == retry.headers["idempotency-key"] == "leadhub-dispatch-42"


def test_form_body(deliver, http_peer):
    deliver({"format": "form"})
    (request,) = http_peer.wait_for(1)
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.form() == {"FirstName": "Zoë", "Email": "zoe@example.com", "Age": "41", "Consent": "true"}


def test_xml_body_is_escaped_and_nested(deliver, http_peer):
    deliver({"format": "xml", "xml_root": "Lead"},
            payload={"Name": "A & <B>", "1st": "x", "Address": {"Town": "Leeds"}, "Tags": ["a", "b"]})
    (request,) = http_peer.wait_for(1)
    root = ET.fromstring(request.body)
    assert root.tag == "Lead" and root.findtext("Name") == "A & <B>" and root.findtext("_1st") == "x"
    assert root.findtext("Address/Town") == "Leeds" and [t.text for t in root.findall("Tags")] == ["a", "b"]


def test_query_and_get_and_put(deliver, http_peer):
    deliver({"format": "query"})
    deliver({"method": "GET", "format": "json"})
    deliver({"method": "PUT", "format": "json"})
    posted, got, put = http_peer.wait_for(3)
    assert posted.method == "POST" and posted.query["FirstName"] == ["Zoë"] and posted.body == b""
    assert got.method == "GET" and got.query["Email"] == ["zoe@example.com"]
    assert put.method == "PUT" and put.json()["Age"] == 41


def test_templated_headers(deliver, http_peer):
    deliver({"headers": {"X-Campaign": "lead-{{ FirstName }}"}})
    assert http_peer.wait_for(1)[0].headers["x-campaign"] == "lead-Zoë"  # sent as UTF-8 bytes


def test_basic_bearer_and_api_key_auth(deliver, http_peer):
    deliver({"auth": {"type": "basic", "username": "hub", "password": "pa:ss"}})
    deliver({"auth": {"type": "bearer", "token": "tok123"}})
    deliver({"auth": {"type": "api_key", "name": "X-Key", "value": "k1"}})
    deliver({"auth": {"type": "api_key", "name": "apikey", "value": "k2", "in": "query"}})
    basic, bearer, header_key, query_key = http_peer.wait_for(4)
    assert basic.headers["authorization"] == "Basic " + base64.b64encode(b"hub:pa:ss").decode()
    assert bearer.headers["authorization"] == "Bearer tok123"
    assert header_key.headers["x-key"] == "k1"
    assert query_key.query["apikey"] == ["k2"]


def test_two_step_token_is_fetched_once_and_cached(deliver, http_peer):
    http_peer.route("POST", "/token", Answer(json={"access_token": "T1", "expires_in": 3600}))
    auth = {"type": "token", "token_url": f"{http_peer.url}/token", "client_id": "hub", "client_secret": "s3",
            "params": {"grant_type": "client_credentials"}}
    assert deliver({"auth": auth}).is_accepted and deliver({"auth": auth}).is_accepted
    http_peer.wait_for(3)
    (token_call,) = http_peer.to("/token")
    assert token_call.form() == {"grant_type": "client_credentials", "client_id": "hub", "client_secret": "s3"}
    assert [r.headers["authorization"] for r in http_peer.to("/leads")] == ["Bearer T1", "Bearer T1"]


def test_an_expired_token_is_fetched_again(deliver, http_peer):
    answers = iter([Answer(json={"access_token": "T1", "expires_in": 0}),
                    Answer(json={"access_token": "T2", "expires_in": 0})])
    http_peer.route("POST", "/token", lambda request: next(answers))
    auth = {"type": "token", "token_url": f"{http_peer.url}/token"}
    deliver({"auth": auth})
    deliver({"auth": auth})
    http_peer.wait_for(4)
    assert [r.headers["authorization"] for r in http_peer.to("/leads")] == ["Bearer T1", "Bearer T2"]


def test_a_401_drops_the_cached_token_and_retries_once(deliver, http_peer):
    tokens = iter(["OLD", "NEW"])
    http_peer.route("POST", "/token", lambda request: Answer(json={"access_token": next(tokens)}))
    http_peer.queue(Answer(status=401))
    result = deliver({"auth": {"type": "token", "token_url": f"{http_peer.url}/token"}})
    assert result.is_accepted
    assert [r.headers["authorization"] for r in http_peer.to("/leads")] == ["Bearer OLD", "Bearer NEW"]


def test_failing_token_calls(deliver, http_peer):
    http_peer.route("POST", "/token", Answer(status=403, body="bad client"))
    refused = deliver({"auth": {"type": "token", "token_url": f"{http_peer.url}/token"}})
    assert refused.is_rejected and "client id and secret" in refused.message
    http_peer.route("POST", "/token", Answer(status=503))
    down = deliver({"auth": {"type": "token", "token_url": f"{http_peer.url}/token", "client_id": "other"}})
    assert down.is_failed
    assert http_peer.to("/leads") == []
