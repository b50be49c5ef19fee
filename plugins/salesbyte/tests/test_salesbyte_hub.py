"""The example's salesbyte delivery, applied to a hub and pointed at the local SalesByte: lead in, quote out."""

from __future__ import annotations

from litestar.testing import TestClient

from hub.accounts.tokens import create_token
from hub.config.apply import apply_document
from hub.testing.hub import make_test_hub, wait_until
from hub.web.app import create_app


def test_a_posted_lead_becomes_a_quote_with_its_links_on_the_lead(tmp_path, monkeypatch, example, salesbyte,
                                                                  settings):
    monkeypatch.setenv("SALESBYTE_UUID", settings["uuid"])
    monkeypatch.setenv("FORM_SOURCE_KEY", "form-key")
    (delivery,) = [d for d in example["deliveries"] if d["channel"] == "salesbyte"]
    delivery["config"]["base_url"] = salesbyte.url
    hub = make_test_hub(tmp_path)
    apply_document(hub, {"sources": example["sources"], "buyers": example["buyers"], "deliveries": [delivery]})
    with TestClient(create_app(hub)) as client:
        answer = client.post("/webhooks/home-insurance-form", headers={"X-API-Key": "form-key"}, json={
            "first_name": "Ann", "last_name": "Lee", "email": "ann@example.com", "phone": "07911 123456",
            "consent": "yes"})
        assert answer.status_code == 202, answer.text
        auth = {"Authorization": f"Bearer {create_token(hub.engine, 't')}"}
        lead_url = f"/api/v1/leads/{answer.json()['lead_id']}"
        record = wait_until(lambda: (r := client.get(lead_url, headers=auth).json())["dispatches"][0]["status"]
                            == "accepted" and r)
    (dispatch,) = record["dispatches"]
    assert dispatch["delivery"] == "acme-salesbyte" and dispatch["remote_id"] == "101"
    links = dispatch["attempts"][0]["details"]["links"]
    assert set(links) == {"edit", "customer_view", "customer_verificate", "customer_project_approval"}
    assert links["edit"].endswith("/quotes/101/edit")
    (request,) = salesbyte.requests
    assert request.headers["idempotency-key"] == f"leadhub-dispatch-{dispatch['id']}"
    body = request.json()
    assert body["uuid"] == settings["uuid"]  # the env: reference was resolved for the request...
    assert settings["uuid"] not in repr(dispatch["attempts"])  # ...and masked in the attempt log
    assert body["customer_name"] == "Ann Lee" and body["customer_email"] == "ann@example.com"
    assert body["customer_phone"] == "+447911123456"  # the source's phone field is normalised by the hub
    assert body["tag_1"] == "web" and body["salesperson_email"] == ["ann@acme.example", "bob@acme.example"]
    assert "message" not in body and "custom_field_1_content" not in body
