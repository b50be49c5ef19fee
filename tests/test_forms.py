"""Settings forms generated from plugin Config schemas, and posts read back into settings (pure)."""

from __future__ import annotations

from hub.plugins.configs import config_schema, decode_config
from hub.plugins.registry import load_registry
from hub.secrets import MASK
from hub.web.forms import build_form, read_form

REGISTRY = load_registry()


def by_path(fields, path):  # type: ignore[no-untyped-def]
    for f in fields:
        if f.path == path:
            return f
        for child in f.children + [c for v in f.variants.values() for c in v]:
            found = by_path([child], path)
            if found:
                return found
    return None


def test_http_post_form_has_every_kind_of_input_and_hides_secrets():
    schema = config_schema(REGISTRY.channel("http_post").Config)
    stored = {"url": "https://x.example", "auth": {"type": "basic", "username": "hub", "password": "pw"},
              "headers": {"X-A": "1"}, "accept": {"status": [200, 201]}}
    fields = build_form(schema, stored, {"url": "bad url"})
    assert by_path(fields, "url").value == "https://x.example" and by_path(fields, "url").error == "bad url"
    assert by_path(fields, "method").kind == "select" and "PUT" in by_path(fields, "method").choices
    auth = by_path(fields, "auth")
    assert auth.kind == "union" and auth.selected == "basic" and {"none", "basic", "bearer", "token"} <= set(auth.variants)
    password = next(f for f in auth.variants["basic"] if f.path == "auth.password")
    assert password.kind == "password" and password.value == ""  # never sent back
    assert by_path(fields, "headers").kind == "pairs" and by_path(fields, "headers").value == "X-A: 1"
    assert by_path(fields, "accept").kind == "group" and by_path(fields, "accept.status").value == "200\n201"


def test_a_post_reads_back_into_valid_settings():
    cls = REGISTRY.channel("http_post").Config
    form = {"config.url": "https://x.example/leads", "config.method": "PUT", "config.format": "xml",
            "config.headers": "X-A: 1\nX-B: two", "config.timeout_seconds": "5",
            "config.auth": "basic", "config.auth@basic.username": "hub", "config.auth@basic.password": "",
            "config.auth@bearer.token": "ignored", "config.accept.status": "200\n201", "config.accept.body_contains": "",
            "config.xml_root": "lead"}
    settings = read_form(config_schema(cls), form)
    assert settings["auth"] == {"type": "basic", "username": "hub", "password": MASK}  # empty: keep the stored one
    assert settings["headers"] == {"X-A": "1", "X-B": "two"} and settings["accept"] == {"status": [200, 201]}
    assert settings["timeout_seconds"] == 5.0
    decoded = decode_config(cls, {**settings, "auth": {**settings["auth"], "password": "pw"}})
    assert decoded.method == "PUT" and decoded.accept.status == [200, 201]


def test_a_top_level_union_gets_a_kind_picker():
    schema = config_schema(REGISTRY.channel("sms").Config)
    (picker,) = build_form(schema, {"provider": "vonage", "body": "Hi"})
    assert picker.kind == "union" and picker.selected == "vonage" and set(picker.variants) >= {"twilio", "vonage", "http"}
    settings = read_form(schema, {"config": "twilio", "config@twilio.body": "Hi {{ first_name }}",
                                  "config@twilio.to": "+447700900123\n", "config@twilio.to_lead_phone": "on",
                                  "config@twilio.account_sid": "AC1", "config@twilio.auth_token": "t",
                                  "config@twilio.from_number": "+447700900000"})
    assert settings["provider"] == "twilio" and settings["to"] == ["+447700900123"] and settings["to_lead_phone"] is True
