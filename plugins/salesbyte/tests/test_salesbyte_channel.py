"""The SalesByte channel against a strict local SalesByte: bodies, outcomes, links, settings."""

from __future__ import annotations

import pytest

from hub.plugins.configs import ConfigErrors, decode_config
from hub.testing.http_peer import Hang
from leadhub_salesbyte.body import MAPPABLE
from leadhub_salesbyte.channel import SalesByteChannel
from leadhub_salesbyte.config import SalesByteConfig
from leadhub_salesbyte.testing import SETTINGS, UUID


def sent(http_peer):  # type: ignore[no-untyped-def]
    return http_peer.requests[-1].json()


def test_every_field_is_sent_as_documented(deliver, http_peer):
    payload = {"customer_name": " Ann Lee ", "customer_phone": " +44 7911 123456 ", "customer_email": "ann@x.com",
               "customer_company": "", "message": "Call after 5",
               **{f"custom_field_{n}_content": f"c{n}" for n in range(1, 11)}, **{f"tag_{n}": f"t{n}" for n in range(1, 11)}}
    result = deliver(payload)
    assert result.accepted, result.message
    body = sent(http_peer)
    assert body["uuid"] == UUID and body["quote_profile_id"] == 12 and body["customer_name"] == "Ann Lee"
    assert body["customer_phone"] == "+44 7911 123456"  # trimmed; SalesByte sanitises the rest
    assert "customer_company" not in body  # empty optional fields are left out
    assert [body[f"custom_field_{n}_content"] for n in range(1, 11)] == [f"c{n}" for n in range(1, 11)]
    assert [body[f"tag_{n}"] for n in range(1, 11)] == [f"t{n}" for n in range(1, 11)]
    assert body["chat_enabled"] is True and body["allow_customer_document_upload"] is False
    assert body["send_type"] == "email" and body["type"] == "brand_awareness" and body["message"] == "Call after 5"
    assert http_peer.requests[-1].headers["idempotency-key"] == "leadhub-dispatch-1"


@pytest.mark.parametrize("setting, expected", [
    (["ann@acme.example", "bob@acme.example"], ["ann@acme.example", "bob@acme.example"]),
    ("ann@acme.example", "ann@acme.example"),
    (None, None),
])
def test_salesperson_email_as_list_string_or_null(deliver, http_peer, setting, expected):
    assert deliver({"customer_name": "Ann"}, salesperson_email=setting).accepted
    assert sent(http_peer)["salesperson_email"] == expected


def test_a_mapped_salesperson_overrides_the_setting(deliver, http_peer):
    assert deliver({"customer_name": "Ann", "salesperson_email": "bob@acme.example"}).accepted
    assert sent(http_peer)["salesperson_email"] == "bob@acme.example"


def test_quote_id_and_links_are_kept(deliver, salesbyte):
    result = deliver({"customer_name": "Ann"})
    assert result.remote_id == "101"
    assert set(result.details["links"]) == {"edit", "customer_view", "customer_verificate", "customer_project_approval"}
    salesbyte.links = "some"
    assert set(deliver({"customer_name": "Ann"}).details["links"]) == {"edit", "customer_view"}
    salesbyte.links = "null"
    assert set(deliver({"customer_name": "Ann"}).details["links"]) == {"edit", "customer_view"}


def test_422_is_rejected_with_salesbytes_messages(deliver):
    result = deliver({"customer_name": ""})
    assert result.rejected and "customer_name: The customer_name field is required." in result.message
    assert result.response.status == 422


@pytest.mark.parametrize("settings, words", [
    ({"uuid": "wrong"}, "the integration id (uuid)"),
    ({"quote_profile_id": 99}, "the quote profile id"),
    ({"salesperson_email": "eve@acme.example"}, "the salesperson email"),
])
def test_404_tells_the_admin_what_to_check(deliver, settings, words):
    result = deliver({"customer_name": "Ann"}, **settings)
    assert result.rejected and words in result.message and result.details["misconfigured"] is True


def test_500_timeouts_and_refused_connections_are_retried(deliver, salesbyte, http_peer):
    salesbyte.fail_with = 500
    assert deliver({"customer_name": "Ann"}).failed
    salesbyte.fail_with = None
    http_peer.route("POST", "/integrations/create_brandawareness", Hang(5))
    assert "did not answer within 0.3s" in deliver({"customer_name": "Ann"}, timeout_seconds=0.3).message
    refused = deliver({"customer_name": "Ann"}, base_url="http://127.0.0.1:9")
    assert refused.failed and "cannot reach SalesByte" in refused.message


def test_targets_outside_the_api_are_refused_when_saving():
    channel = SalesByteChannel()
    config = decode_config(SalesByteConfig, {"base_url": "https://x.example", **SETTINGS})
    problems = channel.validate_delivery(config, ["customer_name", "FirstName", "tag_11"])
    assert set(problems) == {"mapping.FirstName", "mapping.tag_11"}
    assert "customer_email" in problems["mapping.FirstName"]
    assert "customer_name" in channel.validate_delivery(config, ["customer_email"])["mapping"]
    assert channel.validate_delivery(config, list(MAPPABLE)) == {}


def test_settings_are_typed_and_each_bad_one_is_named():
    with pytest.raises(ConfigErrors) as caught:
        decode_config(SalesByteConfig, {"base_url": "acme", "uuid": "", "quote_profile_id": "twelve",
                                        "chat_enabled": "maybe", "send_type": "email", "type": "x",
                                        "workflows_enabled": True, "allow_customer_document_upload": True,
                                        "salesperson_email": 5, "colour": "red"})
    assert {"base_url", "uuid", "quote_profile_id", "chat_enabled", "trigger_created_messages_to_customer",
            "salesperson_email", "colour"} <= set(caught.value.errors)


def test_the_example_configuration_decodes():
    config = decode_config(SalesByteConfig, {
        "base_url": "https://acme.salesbyte.example", "uuid": "env:SALESBYTE_UUID", "quote_profile_id": 12,
        "send_type": "email", "type": "brand_awareness", "chat_enabled": True, "workflows_enabled": True,
        "allow_customer_document_upload": False, "trigger_created_messages_to_customer": True,
        "salesperson_email": ["ann@acme.example", "bob@acme.example"]})
    assert config.quote_profile_id == 12
