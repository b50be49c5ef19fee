"""Each provider against a local server that checks the request as the provider documents it."""

from __future__ import annotations

import base64

import pytest

from hub.testing.http_peer import Answer, Hang, RecordedRequest

TWILIO_PATH = "/2010-04-01/Accounts/AC123/Messages.json"


def twilio(http_peer, **extra):  # type: ignore[no-untyped-def]
    return {"provider": "twilio", "api_base_url": http_peer.url, "account_sid": "AC123", "auth_token": "tok-456",
            "from_number": "+447700900000", "to": ["+447700900123"], "body": "New lead {{ first_name }}", **extra}


def fake_twilio(request: RecordedRequest) -> Answer:
    expected = "Basic " + base64.b64encode(b"AC123:tok-456").decode()
    if request.headers.get("authorization") != expected:
        return Answer(status=401, json={"code": 20003, "message": "Authenticate", "status": 401})
    form = request.form()
    if set(form) != {"To", "From", "Body"} or not form["To"].startswith("+"):
        return Answer(status=400, json={"code": 21604, "message": "A 'To' phone number is required.", "status": 400})
    if form["To"] == "+447700900999":
        return Answer(status=400, json={"code": 21211, "message": "The 'To' number is not valid.", "status": 400})
    return Answer(status=201, json={"sid": "SM" + "f" * 32, "status": "queued", "body": form["Body"]})


def test_twilio_sends_the_documented_request(deliver, http_peer):
    http_peer.route("POST", TWILIO_PATH, fake_twilio)
    result = deliver(twilio(http_peer))
    assert result.is_accepted and result.remote_id == "SM" + "f" * 32
    (request,) = http_peer.requests
    assert request.form() == {"To": "+447700900123", "From": "+447700900000", "Body": "New lead Ann"}
    assert result.details["encoding"] == "GSM-7" and result.details["segments"] == 1


def test_twilio_refusals_and_transient_failures(deliver, http_peer):
    http_peer.route("POST", TWILIO_PATH, fake_twilio)
    bad_auth = deliver(twilio(http_peer, auth_token="wrong"))
    assert bad_auth.is_rejected and "20003" in bad_auth.message
    bad_number = deliver(twilio(http_peer, to=["+447700900999"]))
    assert bad_number.is_rejected and "21211" in bad_number.message
    http_peer.route("POST", TWILIO_PATH, Answer(status=429, headers={"Retry-After": "30"}, json={"code": 20429}))
    busy = deliver(twilio(http_peer))
    assert busy.is_failed and busy.retry_after == 30
    http_peer.route("POST", TWILIO_PATH, Answer(status=503, body="down"))
    assert deliver(twilio(http_peer)).is_failed
    http_peer.route("POST", TWILIO_PATH, Hang(5))
    slow = deliver(twilio(http_peer, timeout_seconds=0.3))
    assert slow.is_failed and "did not answer" in slow.message


def vonage(http_peer, **extra):  # type: ignore[no-untyped-def]
    return {"provider": "vonage", "api_base_url": http_peer.url, "api_key": "key1", "api_secret": "sec2",
            "from_number": "Leadhub", "to": ["+447700900123"], "body": "{{ text_body }}", **extra}


def fake_vonage(request: RecordedRequest) -> Answer:
    form = request.form()
    if (form.get("api_key"), form.get("api_secret")) != ("key1", "sec2"):
        return Answer(json={"message-count": "1", "messages": [{"status": "4", "error-text": "Bad Credentials"}]})
    if form["to"].startswith("+") or not form.get("text"):
        return Answer(json={"message-count": "1", "messages": [{"status": "3", "error-text": "Invalid to"}]})
    if form["to"] == "447700900111":
        return Answer(json={"message-count": "1", "messages": [{"status": "1", "error-text": "Throttled"}]})
    return Answer(json={"message-count": "1", "messages": [{"to": form["to"], "message-id": "0A0000001",
                                                             "status": "0"}]})


def test_vonage_sends_digits_and_marks_unicode(deliver, http_peer):
    http_peer.route("POST", "/sms/json", fake_vonage)
    assert deliver(vonage(http_peer), {"text_body": "Hello"}).remote_id == "0A0000001"
    assert deliver(vonage(http_peer), {"text_body": "Привет"}).is_accepted
    plain, unicode = http_peer.requests
    assert plain.form()["to"] == "447700900123" and "type" not in plain.form() and plain.form()["from"] == "Leadhub"
    assert unicode.form()["type"] == "unicode" and unicode.form()["text"] == "Привет"


def test_vonage_status_codes(deliver, http_peer):
    http_peer.route("POST", "/sms/json", fake_vonage)
    creds = deliver(vonage(http_peer, api_secret="nope"), {"text_body": "x"})
    assert creds.is_rejected and "Bad Credentials" in creds.message
    throttled = deliver(vonage(http_peer, to=["+447700900111"]), {"text_body": "x"})
    assert throttled.is_failed and "Throttled" in throttled.message


def test_http_gateway_templated_parameters_as_json(deliver, http_peer):
    http_peer.respond(status=200, json={"result": "OK", "data": {"id": "g-1"}})
    result = deliver({"provider": "http", "url": f"{http_peer.url}/send", "format": "json",
                      "params": {"msisdn": "{{ to_digits }}", "message": "{{ text }}", "ref": "{{ first_name }}"},
                      "headers": {"X-Api-Key": "gw-key"}, "success_contains": "ok",
                      "message_id_json_path": "data.id", "to": ["+447700900123"], "body": "Lead {{ first_name }}"})
    assert result.is_accepted and result.remote_id == "g-1"
    (request,) = http_peer.requests
    assert request.json() == {"msisdn": "447700900123", "message": "Lead Ann", "ref": "Ann"}
    assert request.headers["x-api-key"] == "gw-key"


def test_http_gateway_success_text_and_errors(deliver, http_peer):
    settings = {"provider": "http", "url": f"{http_peer.url}/send", "success_contains": "ACCEPTED",
                "to": ["+447700900123"], "body": "x"}
    http_peer.queue(Answer(body="ERR 17 no credit"), Answer(status=500), Answer(status=403, body="forbidden"))
    assert deliver(settings).is_rejected
    assert deliver(settings).is_failed
    assert deliver(settings).is_rejected
    assert http_peer.wait_for(3)[0].form() == {"to": "+447700900123", "text": "x"}


@pytest.mark.parametrize("settings, missing", [
    ({"provider": "twilio", "body": "x", "account_sid": "a", "auth_token": "b"}, "from_number"),
    ({"provider": "vonage", "body": "x", "api_key": "a"}, "api_secret"),
])
def test_provider_settings_are_checked(settings, missing):
    from leadhub_sms.channel import SmsConfig

    from hub.plugins.configs import ConfigErrors, decode_config

    with pytest.raises(ConfigErrors, match=missing):
        decode_config(SmsConfig, settings)
