"""The email channel through real SMTP servers: headers, encoding, bodies, TLS, AUTH, failures."""

from __future__ import annotations

import httpx
import pytest
from leadhub_email.channel import EmailChannel, EmailConfig
from leadhub_email.smtp_settings import (
    SmtpSettingsError,
    parse_smtp_url,
    resolve_settings,
)

from hub.plugins.configs import decode_config
from hub.testing.context import make_delivery_context

LEAD = {"first_name": "Zoë", "last_name": "Ångström", "email": "zoe@example.com", "phone": "+447911123456"}


def deliver(settings: dict, lead: dict | None = None):  # type: ignore[no-untyped-def]
    config = decode_config(EmailConfig, {"from_address": "leads@hub.example", **settings})
    with httpx.Client() as http:
        return EmailChannel().deliver(make_delivery_context(config, dict(lead or LEAD), http=http, dispatch_id=7))


def plain(server, **extra):  # type: ignore[no-untyped-def]
    return {"smtp_host": "127.0.0.1", "smtp_port": server.port, "smtp_security": "none",
            "to": ["sales@acme.example"], "subject": "New lead: {{ first_name }} {{ last_name }}",
            "body": "Call {{ first_name }} on {{ phone }}.", **extra}


def test_a_personalised_utf8_message_arrives(smtp_server):
    result = deliver(plain(smtp_server, from_name="Léad Hub", cc=["boss@acme.example"], bcc=["audit@acme.example"],
                           reply_to="help@hub.example", html_body="<p>Call <b>{{ first_name }}</b></p>"))
    assert result.is_accepted, result.message
    ((recipients, message),) = smtp_server.mailbox.messages
    assert sorted(recipients) == ["audit@acme.example", "boss@acme.example", "sales@acme.example"]
    assert message["Subject"] == "New lead: Zoë Ångström"
    assert message["From"].addresses[0].display_name == "Léad Hub"
    assert message["To"] == "sales@acme.example" and message["Cc"] == "boss@acme.example"
    assert message["Bcc"] is None  # delivered, but not shown to the others
    assert message["Reply-To"] == "help@hub.example" and message["X-Leadhub-Dispatch"] == "leadhub-dispatch-7"
    assert message.get_body(("plain",)).get_content().strip() == "Call Zoë on +447911123456."
    assert "<b>Zoë</b>" in message.get_body(("html",)).get_content()
    assert result.remote_id == message["Message-ID"]
    assert result.response.summary.startswith("250 2.0.0 Ok")


def test_templated_recipients_and_missing_fields(smtp_server):
    result = deliver(plain(smtp_server, to=["{{ email }}", "{{ nothing }}"], body="Hi {{ nope }}!"))
    assert result.is_accepted
    ((recipients, message),) = smtp_server.mailbox.messages
    assert recipients == ["zoe@example.com"] and message.get_content().strip() == "Hi !"


def test_an_invalid_rendered_recipient_is_rejected(smtp_server):
    result = deliver(plain(smtp_server, to=["{{ phone }}"]))
    assert result.is_rejected and "'+447911123456' is not valid" in result.message
    assert smtp_server.mailbox.messages == []


def test_a_broken_template_is_rejected_not_a_crash(smtp_server):
    result = deliver(plain(smtp_server, subject="{{ first_name "))
    assert result.is_rejected and "template" in result.message


def test_temporary_refusal_retries_and_permanent_refusal_rejects(smtp_server):
    smtp_server.mailbox.refuse = {"busy@acme.example": "451 4.3.0 Try again later",
                                  "gone@acme.example": "550 5.1.1 Mailbox unavailable"}
    busy = deliver(plain(smtp_server, to=["busy@acme.example"]))
    assert busy.is_failed and "451 4.3.0" in busy.message
    gone = deliver(plain(smtp_server, to=["gone@acme.example"]))
    assert gone.is_rejected and "550 5.1.1 Mailbox unavailable" in gone.message
    assert "550 5.1.1" in gone.response.body
    partly = deliver(plain(smtp_server, to=["sales@acme.example", "gone@acme.example"]))
    assert partly.is_accepted and partly.details["refused"] == {"gone@acme.example": "550 5.1.1 Mailbox unavailable"}


def test_connection_refused_is_transient():
    result = deliver({"smtp_host": "127.0.0.1", "smtp_port": 9, "to": ["a@b.example"], "body": "x"})
    assert result.is_failed and "127.0.0.1:9" in result.message


def test_starttls_with_auth(starttls_server):
    settings = {"smtp_host": "127.0.0.1", "smtp_port": starttls_server.port, "smtp_security": "starttls",
                "smtp_username": "hub", "smtp_password": "s3cret-pass", "smtp_ca_file": starttls_server.ca_file,
                "to": ["sales@acme.example"], "body": "Hello {{ first_name }}"}
    assert deliver(settings).is_accepted
    assert len(starttls_server.mailbox.messages) == 1
    wrong = deliver({**settings, "smtp_password": "nope"})
    assert wrong.is_rejected and "username or password" in wrong.message and "nope" not in wrong.message
    untrusted = deliver({**settings, "smtp_ca_file": ""})
    assert untrusted.is_failed and "TLS" in untrusted.message


def test_implicit_tls(smtps_server):
    result = deliver({"smtp_host": "127.0.0.1", "smtp_port": smtps_server.port, "smtp_security": "tls",
                      "smtp_username": "hub", "smtp_password": "s3cret-pass", "smtp_ca_file": smtps_server.ca_file,
                      "to": ["sales@acme.example"], "body": "x"})
    assert result.is_accepted, result.message


def test_the_hub_wide_smtp_url_is_the_default(smtp_server, monkeypatch):
    monkeypatch.setenv("HUB_SMTP_URL", f"smtp://127.0.0.1:{smtp_server.port}?security=none&from=hub%40x.example"
                                       "&from_name=Hub")
    config = {"to": ["sales@acme.example"], "body": "x"}
    assert deliver(config).is_accepted
    assert smtp_server.mailbox.messages[0][1]["From"].addresses[0].addr_spec == "leads@hub.example"  # override wins
    cfg = decode_config(EmailConfig, config)
    assert resolve_settings(cfg).from_address == "hub@x.example"


def test_smtp_url_parsing_and_credentials_stay_with_their_host():
    parsed = parse_smtp_url("smtp://us%40er:p%3Ass@mail.example:2525?security=starttls&from=a@b.example")
    assert parsed["username"] == "us@er" and parsed["password"] == "p:ss" and parsed["port"] == "2525"
    assert parse_smtp_url("smtps://mail.example")["security"] == "tls"
    env = {"HUB_SMTP_URL": "smtp://u:p@mail.example?from=a@b.example"}
    elsewhere = resolve_settings(decode_config(EmailConfig, {"smtp_host": "other.example"}), env)
    assert elsewhere.username == "" and elsewhere.password == "" and elsewhere.from_address == "a@b.example"
    with pytest.raises(SmtpSettingsError, match="no SMTP server"):
        resolve_settings(decode_config(EmailConfig, {}), {})
    with pytest.raises(SmtpSettingsError, match="smtp://"):
        parse_smtp_url("http://x")


def test_saving_requires_recipients_and_a_body():
    problems = EmailChannel().validate_delivery(decode_config(EmailConfig, {}), [])
    assert set(problems) == {"to", "body"}


def test_the_example_configuration_decodes():
    config = decode_config(EmailConfig, {"to": ["sales@acme.example"],
                                         "subject": "New lead: {{ first_name }} {{ last_name }}",
                                         "body": "Call {{ first_name }} on {{ phone }}."})
    assert config.to == ["sales@acme.example"]
