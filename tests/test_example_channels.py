"""The example's email and SMS deliveries: one lead, a personalised email and a segmented SMS; no secret leaks."""

from __future__ import annotations

import base64
import logging
import tomllib
from pathlib import Path

import pytest
from litestar.testing import TestClient

from hub.accounts.tokens import create_token
from hub.config.apply import apply_document
from hub.config.dump import dump_document, dump_text
from hub.testing.http_peer import Answer
from hub.testing.hub import make_test_hub, wait_until
from hub.web.app import create_app

EXAMPLE = Path(__file__).resolve().parents[2] / "shared" / "examples" / "hub.toml"
SID, TOKEN = "AC0123456789abcdef", "twilio-token-SECRET"


def test_email_and_sms_from_the_example(tmp_path, monkeypatch, http_peer, inbox, caplog):
    if not EXAMPLE.exists():
        pytest.skip(f"{EXAMPLE} not found")
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("FORM_SOURCE_KEY", "form-key")
    monkeypatch.setenv("TWILIO_SID", SID)
    monkeypatch.setenv("TWILIO_TOKEN", TOKEN)
    monkeypatch.setenv("HUB_SMTP_URL", f"smtp://127.0.0.1:{inbox.port}?security=none&from=leads%40hub.example")
    example = tomllib.loads(EXAMPLE.read_text())
    deliveries = [d for d in example["deliveries"] if d["channel"] in ("email", "sms")]
    sms = next(d for d in deliveries if d["channel"] == "sms")
    sms["config"]["api_base_url"] = http_peer.url
    http_peer.route("POST", f"/2010-04-01/Accounts/{SID}/Messages.json",
                    Answer(status=201, json={"sid": "SM0001", "status": "queued"}))
    hub = make_test_hub(tmp_path)
    apply_document(hub, {"sources": example["sources"], "buyers": example["buyers"], "deliveries": deliveries})

    with TestClient(create_app(hub)) as client:
        answer = client.post("/webhooks/home-insurance-form", headers={"X-API-Key": "form-key"}, json={
            "first_name": "Zoë", "last_name": "Lee", "email": "zoe@example.com", "phone": "07911 123456",
            "consent": True})
        assert answer.status_code == 202, answer.text
        auth = {"Authorization": f"Bearer {create_token(hub.engine, 't')}"}
        url = f"/api/v1/leads/{answer.json()['lead_id']}"

        def settled():  # type: ignore[no-untyped-def]
            record = client.get(url, headers=auth).json()
            return record if all(d["status"] == "accepted" for d in record["dispatches"]) else None

        record = wait_until(settled)
        attempts_json = client.get(url, headers=auth).text

    (message,) = inbox.messages
    assert message["Subject"] == "New lead: Zoë Lee" and message["To"] == "sales@acme.example"
    assert message.get_content().strip() == "Call Zoë on +447911123456."
    (sms_request,) = http_peer.requests
    assert sms_request.form() == {"To": "+447700900123", "From": "+447700900000",
                                  "Body": "New lead Zoë +447911123456"}
    sms_dispatch = next(d for d in record["dispatches"] if d["delivery"] == "acme-sms")
    assert sms_dispatch["attempts"][0]["details"]["segments"] == 1
    assert sms_dispatch["attempts"][0]["details"]["encoding"] == "UCS-2"  # ë is not in the GSM-7 alphabet

    basic = base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    dumped = dump_text(dump_document(hub))
    for secret in (TOKEN, basic):
        assert secret not in attempts_json, "a secret reached the attempt log"
        assert secret not in caplog.text, "a secret reached the logs"
        assert secret not in dumped, "a secret reached the dump"
    assert 'auth_token = "env:TWILIO_TOKEN"' in dumped
