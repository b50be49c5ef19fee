"""The body SalesByte receives: every documented field, exactly typed, checked by the strict local SalesByte."""

from __future__ import annotations

import pytest
from leadhub_salesbyte.body import as_text

from hub.plugins.contract import Outcome

CUSTOM = {f"custom_field_{n}_content": f"custom {n}" for n in range(1, 11)}
TAGS = {f"tag_{n}": f"tag {n}" for n in range(1, 11)}
REQUIRED = {"uuid", "quote_profile_id", "customer_name", "chat_enabled", "workflows_enabled",
            "allow_customer_document_upload", "trigger_created_messages_to_customer", "send_type", "type",
            "salesperson_email"}


def test_every_field_is_sent_with_its_documented_type(deliver, salesbyte, settings):
    payload = {"customer_name": "Ann Lee", "customer_phone": "+44 7911 123456", "customer_email": "ann@example.com",
               "customer_company": "Lee & Co", "message": "Call after 5pm", **CUSTOM, **TAGS}
    result = deliver(payload)
    assert result.outcome is Outcome.ACCEPTED, result.message
    body = salesbyte.last
    assert set(body) == REQUIRED | set(payload)
    assert body == {
        "uuid": settings["uuid"], "quote_profile_id": 12, "chat_enabled": True, "workflows_enabled": True,
        "allow_customer_document_upload": False, "trigger_created_messages_to_customer": True,
        "send_type": "email", "type": "brand_awareness",
        "salesperson_email": ["ann@acme.example", "bob@acme.example"], **payload}
    assert [body[f"custom_field_{n}_content"] for n in range(1, 11)] == [f"custom {n}" for n in range(1, 11)]
    assert [body[f"tag_{n}"] for n in range(1, 11)] == [f"tag {n}" for n in range(1, 11)]


def test_the_request_is_json_with_the_idempotency_key(deliver, salesbyte):
    assert deliver({"customer_name": "Ann"}).outcome is Outcome.ACCEPTED
    (request,) = salesbyte.requests
    assert (request.method, request.path) == ("POST", "/integrations/create_brandawareness")
    assert request.headers["content-type"] == "application/json"
    assert request.headers["idempotency-key"] == "leadhub-dispatch-1"  # the context's key for dispatch 1


def test_unmapped_optional_fields_are_left_out(deliver, salesbyte):
    assert deliver({"customer_name": "Ann"}).outcome is Outcome.ACCEPTED
    assert set(salesbyte.last) == REQUIRED


def test_empty_mapped_optional_fields_are_sent_as_null(deliver, salesbyte):
    empty = {"customer_phone": "", "customer_email": "   ", "customer_company": None, "message": "",
             "custom_field_3_content": "", "tag_10": None}
    assert deliver({"customer_name": "Ann", **empty}).outcome is Outcome.ACCEPTED
    assert {name: salesbyte.last[name] for name in empty} == dict.fromkeys(empty)


def test_the_phone_is_only_trimmed_for_salesbyte_to_sanitise(deliver, salesbyte):
    result = deliver({"customer_name": " Ann ", "customer_phone": "  (0791) 112-3456 \n"})
    assert result.outcome is Outcome.ACCEPTED
    assert salesbyte.last["customer_phone"] == "(0791) 112-3456" and salesbyte.last["customer_name"] == "Ann"


def test_non_string_values_for_string_fields_become_text(deliver, salesbyte):
    payload = {"customer_name": 1234, "customer_phone": 7911123456, "custom_field_1_content": 2.5,
               "custom_field_2_content": True, "custom_field_3_content": False, "tag_1": ["a", "b"],
               "message": {"note": "hi"}}
    assert deliver(payload).outcome is Outcome.ACCEPTED
    sent = {name: salesbyte.last[name] for name in payload}
    assert sent == {"customer_name": "1234", "customer_phone": "7911123456", "custom_field_1_content": "2.5",
                    "custom_field_2_content": "true", "custom_field_3_content": "false", "tag_1": '["a","b"]',
                    "message": '{"note":"hi"}'}


@pytest.mark.parametrize("setting, sent", [
    (["ann@acme.example", "bob@acme.example"], ["ann@acme.example", "bob@acme.example"]),
    (["bob@acme.example"], ["bob@acme.example"]),  # a list stays an array, even of one
    ("ann@acme.example", "ann@acme.example"),
    (None, None),  # SalesByte assigns a random salesperson
    ([], None),
])
def test_configured_salesperson_email_is_a_string_an_array_or_null(deliver, salesbyte, setting, sent):
    assert deliver({"customer_name": "Ann"}, salesperson_email=setting).outcome is Outcome.ACCEPTED
    assert salesbyte.last["salesperson_email"] == sent


def test_an_absent_salesperson_setting_is_sent_as_null(deliver, salesbyte, settings):
    del settings["salesperson_email"]
    assert deliver({"customer_name": "Ann"}).outcome is Outcome.ACCEPTED
    assert "salesperson_email" in salesbyte.last and salesbyte.last["salesperson_email"] is None


@pytest.mark.parametrize("mapped, sent", [
    ("bob@acme.example", "bob@acme.example"),
    (" bob@acme.example ", "bob@acme.example"),
    (["bob@acme.example", "ann@acme.example"], ["bob@acme.example", "ann@acme.example"]),
    ("", ["ann@acme.example", "bob@acme.example"]),  # nothing mapped for this lead: the default applies
    (None, ["ann@acme.example", "bob@acme.example"]),
])
def test_a_mapped_salesperson_email_overrides_the_setting_per_lead(deliver, salesbyte, mapped, sent):
    assert deliver({"customer_name": "Ann", "salesperson_email": mapped}).outcome is Outcome.ACCEPTED
    assert salesbyte.last["salesperson_email"] == sent


@pytest.mark.parametrize("value, text", [
    (None, None), ("", None), ("  ", None), (" a ", "a"), (0, "0"), (True, "true"), ([1], "[1]"), ("zoë", "zoë")])
def test_as_text(value, text):
    assert as_text(value) == text
