"""How the buyer's answer becomes an outcome: rules, extraction, transient vs permanent failures."""

from __future__ import annotations

import httpx
import pytest
from leadhub_http_post.channel import _exchange_of_request, _exchange_of_response, retry_after_seconds
from leadhub_http_post.config import HttpPostConfig

from hub.plugins.configs import ConfigErrors, decode_config
from hub.testing.http_peer import RESET, Answer, Hang


def test_any_2xx_is_accepted_by_default_and_the_remote_id_is_read(deliver, http_peer):
    http_peer.respond(status=201, json={"data": {"leads": [{"id": 991}]}})
    result = deliver({"remote_id": {"json_path": "$.data.leads[0].id"}})
    assert result.is_accepted and result.remote_id == "991"
    assert result.response.status == 201 and "991" in result.response.body
    assert result.request.summary.startswith("POST http://127.0.0.1")


def test_accept_rule_on_status_and_body(deliver, http_peer):
    rules = {"accept": {"status": [200, 201], "body_contains": "success"}}
    http_peer.queue(Answer(status=200, body="Result: SUCCESS"), Answer(status=200, body="queued"),
                    Answer(status=202, body="success"))
    assert deliver(rules).is_accepted
    declined = deliver(rules)
    assert declined.is_rejected and "does not contain 'success'" in declined.message
    assert "status 202 is not one of [200, 201]" in deliver(rules).message


def test_reject_rule_wins_and_the_reason_is_extracted(deliver, http_peer):
    http_peer.respond(status=200, json={"status": "duplicate", "reason": "seen on 2026-11-01"})
    result = deliver({"reject": {"json_path": "$.status", "json_equals": "duplicate"},
                      "reject_reason": {"json_path": "$.reason"}})
    assert result.is_rejected and "seen on 2026-11-01" in result.message


def test_regex_rules_and_extraction(deliver, http_peer):
    http_peer.respond(status=200, body="OK lead=AB-17 price=3.50")
    result = deliver({"accept": {"body_regex": r"^OK\b"}, "remote_id": {"regex": r"lead=([\w-]+)"}})
    assert result.is_accepted and result.remote_id == "AB-17"


def test_xpath_rules_and_extraction(deliver, http_peer):
    http_peer.queue(Answer(body="<response><status>Accepted</status><id>55</id></response>"),
                    Answer(body="<response><status>Rejected</status><error>Bad postcode</error></response>"))
    config = {"accept": {"xpath": "/response/status", "xpath_equals": "accepted"},
              "remote_id": {"xpath": "//id"}, "reject_reason": {"xpath": "/response/error"}}
    accepted = deliver(config)
    assert accepted.is_accepted and accepted.remote_id == "55"
    declined = deliver(config)
    assert declined.is_rejected and "Bad postcode" in declined.message


@pytest.mark.parametrize("status", [400, 403, 404, 422])
def test_other_4xx_are_rejected(deliver, http_peer, status):
    http_peer.respond(status=status, body="invalid email")
    result = deliver()
    assert result.is_rejected and str(status) in result.message and "invalid email" in result.message


@pytest.mark.parametrize("status", [500, 502, 503, 408])
def test_5xx_and_request_timeout_are_retried(deliver, http_peer, status):
    http_peer.respond(status=status)
    assert deliver().is_failed


def test_429_honours_retry_after(deliver, http_peer):
    http_peer.queue(Answer(status=429, headers={"Retry-After": "120"}))
    result = deliver()
    assert result.is_failed and result.retry_after == 120
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert retry_after_seconds("soon") is None


def test_a_slow_buyer_times_out_as_a_transient_failure(deliver, http_peer):
    http_peer.queue(Hang(5))
    result = deliver({"timeout_seconds": 0.3})
    assert result.is_failed and "no answer within 0.3s" in result.message


def test_a_reset_connection_and_a_closed_port_are_transient(deliver, http_peer):
    http_peer.queue(RESET)
    assert deliver().is_failed
    refused = deliver({"url": "http://127.0.0.1:9/leads"})
    assert refused.is_failed and "connection failed" in refused.message


def test_a_redirect_is_not_followed(deliver, http_peer):
    http_peer.respond(status=301, headers={"Location": "https://elsewhere.example/"})
    result = deliver()
    assert result.is_rejected and "elsewhere.example" in result.message


def test_check_reaches_the_buyer_without_a_lead(channel, http, http_peer):
    config = decode_config(HttpPostConfig, {"url": f"{http_peer.url}/leads"})
    assert channel.check(config, http).ok
    assert http_peer.wait_for(1)[0].method == "OPTIONS"
    down = decode_config(HttpPostConfig, {"url": "http://127.0.0.1:9/"})
    assert not channel.check(down, http).ok


def test_config_errors_are_named_per_setting():
    with pytest.raises(ConfigErrors) as caught:
        decode_config(HttpPostConfig, {"url": "ftp://x", "method": "PATCH", "format": "yaml",
                                       "timeout_seconds": -1, "colour": "red"})
    assert {"url", "method", "format", "timeout_seconds", "colour"} <= set(caught.value.errors)
    with pytest.raises(ConfigErrors) as caught:
        decode_config(HttpPostConfig, {"url": "http://x", "auth": {"type": "basic", "username": "u"}})
    assert any("auth" in key for key in caught.value.errors)


def test_the_example_configuration_decodes():
    config = decode_config(HttpPostConfig, {
        "url": "https://crm.acme.example/api/leads", "method": "POST", "format": "json",
        "auth": {"type": "basic", "username": "hub", "password": "pw"}, "timeout_seconds": 10,
        "accept": {"status": [200, 201], "body_contains": "success"}, "reject": {"body_contains": "duplicate"},
        "remote_id": {"json_path": "$.id"}})
    assert config.auth.username == "hub" and config.accept.status == [200, 201]


def test_broken_locators_are_refused_when_saved():
    for settings in ({"reject": {"json_path": ""}}, {"remote_id": {"regex": "("}}, {"accept": {"json_path": "id"}}):
        with pytest.raises(ConfigErrors):
            decode_config(HttpPostConfig, {"url": "http://x", **settings})


def test_the_recorded_exchange_keeps_every_header_with_repeated_ones_joined() -> None:
    request = httpx.Request("POST", "http://buyer.test/leads", headers=[("X-Tag", "a"), ("X-Tag", "b")], content=b"{}")
    response = httpx.Response(200, headers=[("Set-Cookie", "s=1"), ("Set-Cookie", "t=2"), ("X-Id", "9")],
                              content=b"ok")
    assert _exchange_of_request(request).headers == {"host": "buyer.test", "x-tag": "a, b", "content-length": "2"}
    assert _exchange_of_response(response).headers == {"set-cookie": "s=1, t=2", "x-id": "9", "content-length": "2"}
