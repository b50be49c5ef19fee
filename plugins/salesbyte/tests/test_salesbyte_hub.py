"""The example's salesbyte delivery, applied to a hub and pointed at a local SalesByte."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest
from litestar.testing import TestClient

from hub.accounts.tokens import create_token
from hub.config.apply import apply_document
from hub.testing.hub import make_test_hub, wait_until
from hub.web.app import create_app
from leadhub_salesbyte.testing import UUID

EXAMPLE = Path(__file__).resolve().parents[4] / "shared" / "examples" / "hub.toml"


@pytest.fixture
def example() -> dict:
    if not EXAMPLE.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{EXAMPLE} is missing")
        pytest.skip(f"{EXAMPLE} not found")
    return tomllib.loads(EXAMPLE.read_text())


def test_a_posted_lead_becomes_a_quote_with_its_links_on_the_lead(tmp_path, monkeypatch, example, http_peer,
                                                                  salesbyte):
    monkeypatch.setenv("SALESBYTE_UUID", UUID)
    monkeypatch.setenv("FORM_SOURCE_KEY", "form-key")
    (delivery,) = [d for d in example["deliveries"] if d["channel"] == "salesbyte"]
    delivery["config"]["base_url"] = http_peer.url
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
    assert links["edit"].endswith("/q/101/edit") and links["customer_view"].endswith("/q/101/view")
    body = http_peer.requests[-1].json()
    assert body["customer_name"] == "Ann Lee" and body["customer_phone"] == "+447911123456"
    assert body["tag_1"] == "web" and body["salesperson_email"] == ["ann@acme.example", "bob@acme.example"]
    assert UUID not in repr(dispatch["attempts"])  # the integration id is a secret: masked in the log
