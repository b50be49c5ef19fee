"""What each SalesByte answer becomes: accepted with the quote's links, rejected, or failed (retried)."""

from __future__ import annotations

import json

import pytest
from leadhub_salesbyte.channel import SalesByteChannel
from leadhub_salesbyte.config import Config

from hub.plugins.configs import decode_config
from hub.plugins.contract import Outcome

LEAD = {"customer_name": "Ann Lee", "customer_email": "ann@example.com"}
ALL_LINKS = {"edit", "customer_view", "customer_verificate", "customer_project_approval"}


def test_200_is_accepted_with_the_quote_id_and_all_four_links(deliver, salesbyte):
    result = deliver(LEAD)
    assert result.outcome is Outcome.ACCEPTED and result.remote_id == "101"
    links = result.details["links"]
    assert set(links) == ALL_LINKS
    assert links["edit"] == "https://acme.salesbyte.example/quotes/101/edit"
    assert links["customer_project_approval"] == "https://acme.salesbyte.example/quotes/101/approve"
    assert deliver(LEAD).remote_id == "102"  # each lead is its own quote


@pytest.mark.parametrize("links", ["omit", "null"])
def test_absent_or_null_optional_links_are_left_out(deliver, salesbyte, links):
    salesbyte.links = links
    result = deliver(LEAD)
    assert result.outcome is Outcome.ACCEPTED and set(result.details["links"]) == {"edit", "customer_view"}


def test_the_attempt_keeps_small_request_and_response_excerpts(deliver, salesbyte, settings):
    result = deliver(LEAD)
    assert result.request.summary == f"POST {settings['base_url']}/integrations/create_brandawareness"
    assert json.loads(result.request.body) == salesbyte.last
    assert result.request.headers["Idempotency-Key"] == "leadhub-dispatch-1"
    assert result.response.status == 200 and result.response.summary == "200 OK"
    assert json.loads(result.response.body)["id"] == 101
    assert set(result.response.headers) == {"content-type"}  # not every header the server sends


def test_422_is_rejected_with_salesbytes_validation_messages(deliver, salesbyte):
    result = deliver({"customer_name": "   ", "customer_email": "ann@example.com"})
    assert result.outcome is Outcome.REJECTED
    assert result.message == "SalesByte refused the lead: customer_name: The customer name field is required."
    assert result.response.status == 422
    assert json.loads(result.response.body)["errors"] == {"customer_name": ["The customer name field is required."]}


def test_422_with_several_errors_names_them_all(deliver, salesbyte):
    salesbyte.answer_with = (422, {"message": "The quote profile id field must be an integer. (and 1 more error)",
                                   "errors": {"quote_profile_id": ["The quote profile id field must be an integer."],
                                              "send_type": ["The selected send type is invalid."]}})
    result = deliver(LEAD)
    assert result.outcome is Outcome.REJECTED
    assert "quote_profile_id: The quote profile id field must be an integer." in result.message
    assert "send_type: The selected send type is invalid." in result.message


@pytest.mark.parametrize("setting, value, points_at", [
    ("uuid", "not-our-integration", "the integration id (uuid)"),
    ("quote_profile_id", 99, "the quote profile id"),
    ("salesperson_email", ["ann@acme.example", "eve@acme.example"], "the salesperson email"),
])
def test_404_is_rejected_as_misconfigured_naming_the_setting_to_check(deliver, setting, value, points_at):
    result = deliver(LEAD, **{setting: value})
    assert result.outcome is Outcome.REJECTED and result.details == {"misconfigured": True}
    assert result.message.startswith(f"SalesByte could not find {points_at}: check the delivery's settings")
    assert result.response.status == 404


def test_a_404_that_does_not_say_why_names_all_three(deliver, salesbyte):
    salesbyte.answer_with = (404, {"message": "Not Found"})
    result = deliver(LEAD)
    assert result.outcome is Outcome.REJECTED and result.details == {"misconfigured": True}
    assert ("the integration id (uuid) or the quote profile id or the salesperson email" in result.message)


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_fail_so_the_hub_retries(deliver, salesbyte, status):
    salesbyte.answer_with = (status, {"message": "Server Error"})
    result = deliver(LEAD)
    assert result.outcome is Outcome.FAILED and result.message == f"SalesByte answered {status}"
    assert result.response.status == status


def test_a_200_without_a_quote_id_fails(deliver, salesbyte):
    salesbyte.answer_with = (200, {"links": {}})
    assert deliver(LEAD).outcome is Outcome.FAILED


def test_a_timeout_fails(deliver, salesbyte):
    salesbyte.hanging = True
    result = deliver(LEAD, timeout_seconds=0.2)
    assert result.outcome is Outcome.FAILED and result.message == "SalesByte did not answer within 0.2s"
    assert len(salesbyte.requests) == 1 and result.response is None and result.request is not None


def test_a_refused_connection_fails(deliver, closed_port):
    result = deliver(LEAD, base_url=f"http://127.0.0.1:{closed_port}")
    assert result.outcome is Outcome.FAILED and result.message.startswith("cannot reach SalesByte: ConnectError")


def test_the_local_salesbyte_is_strict_about_types_and_unknown_fields(salesbyte, http):
    """The other tests' "accepted" means something only if this server refuses what SalesByte would."""
    body = {"uuid": "x", "quote_profile_id": "12", "customer_name": "Ann", "chat_enabled": 1,
            "workflows_enabled": True, "allow_customer_document_upload": True,
            "trigger_created_messages_to_customer": True, "send_type": "email", "type": "t",
            "customer_phone": 7911, "salesperson_email": ["not-an-email"], "customer_mail": "a@b.c"}
    answer = http.post(f"{salesbyte.url}/integrations/create_brandawareness", json=body)
    assert answer.status_code == 422
    assert set(answer.json()["errors"]) == {"quote_profile_id", "chat_enabled", "customer_phone",
                                            "salesperson_email", "customer_mail"}


def test_check_reaches_the_salesbyte_address(salesbyte, settings, http, closed_port):
    channel = SalesByteChannel()
    reached = channel.check(decode_config(Config, settings), http)
    assert reached is not None and reached.ok and reached.message == f"{salesbyte.url} answered 404"
    unreachable = channel.check(decode_config(Config, {**settings, "base_url": f"http://127.0.0.1:{closed_port}"}),
                                http)
    assert unreachable is not None and not unreachable.ok and "cannot reach" in unreachable.message
