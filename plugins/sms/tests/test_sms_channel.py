"""The SMS channel: recipients, the segment limit at save and send time, several recipients."""

from __future__ import annotations

from leadhub_sms.channel import SmsChannel, SmsConfig, worst_case

from hub.plugins.configs import decode_config
from hub.testing.http_peer import Answer

BASE = {"provider": "http", "url": "", "to": ["+447700900123"], "body": "x"}


def gateway(http_peer, **extra):  # type: ignore[no-untyped-def]
    return {**BASE, "url": f"{http_peer.url}/send", **extra}


def test_lead_phone_is_normalised_and_invalid_numbers_are_rejected_not_raised(deliver, http_peer):
    result = deliver(gateway(http_peer, to=[], to_lead_phone=True, default_country="GB"))
    assert result.is_accepted and http_peer.requests[0].form()["to"] == "+447911123456"
    nobody = deliver(gateway(http_peer, to=[], to_lead_phone=True), {"phone": "call me"})
    assert nobody.is_rejected and "'call me' is not a phone number" in nobody.message


def test_several_recipients_report_each_and_the_worst_outcome(deliver, http_peer):
    http_peer.queue(Answer(status=200), Answer(status=503))
    result = deliver(gateway(http_peer, to=["+447700900123", "+447700900124", "not-a-number"]))
    assert result.is_failed
    assert [r["outcome"] for r in result.details["recipients"].values()] == ["accepted", "failed"]
    assert "not-a-number" in result.details["invalid"]


def test_a_long_message_is_truncated_or_refused_at_send_time(deliver, http_peer):
    long = "word " * 60
    cut = deliver(gateway(http_peer, body="{{ note }}"), {"note": long})
    assert cut.is_accepted and cut.details["segments"] == 1 and http_peer.requests[0].form()["text"].endswith("...")
    refused = deliver(gateway(http_peer, body="{{ note }}", overflow="reject"), {"note": long})
    assert refused.is_rejected and "2 GSM-7 segments" in refused.message
    two = deliver(gateway(http_peer, body="{{ note }}", max_segments=2), {"note": long})
    assert two.is_accepted and two.details["segments"] == 2


def test_save_time_check_uses_the_templates_worst_case():
    channel = SmsChannel()
    assert worst_case("Hi {{ first_name }}!{% if x %}{% endif %}", 5) == "Hi xxxxx!"
    tight = decode_config(SmsConfig, {**BASE, "url": "http://gw.example/send", "overflow": "reject",
                                      "body": "New lead " + "{{ f }} " * 8})
    assert "can take 2 GSM-7 segments" in channel.validate_delivery(tight, [])["body"]
    assert channel.validate_delivery(decode_config(SmsConfig, {**tight_settings(), "max_segments": 2}), []) == {}
    fixed = decode_config(SmsConfig, {**BASE, "url": "http://gw.example/send", "body": "Ж" * 71})
    assert "2 UCS-2 segments" in channel.validate_delivery(fixed, [])["body"]
    nobody = decode_config(SmsConfig, {**BASE, "url": "http://gw.example/send", "to": ["12"]})
    assert "to" in channel.validate_delivery(nobody, [])


def tight_settings() -> dict:
    return {**BASE, "url": "http://gw.example/send", "overflow": "reject", "body": "New lead " + "{{ f }} " * 8}


def test_the_example_configuration_decodes():
    config = decode_config(SmsConfig, {"provider": "twilio", "to": ["+447700900123"],
                                       "body": "New lead {{ first_name }} {{ phone }}", "account_sid": "env:TWILIO_SID",
                                       "auth_token": "env:TWILIO_TOKEN", "from_number": "+447700900000"})
    assert SmsChannel().validate_delivery(config, []) == {}
