"""The SalesByte settings (typed, one clear message per bad field) and the mapping targets it accepts."""

from __future__ import annotations

import importlib.metadata

import leadhub_salesbyte
import pytest
from leadhub_salesbyte.body import MAPPABLE
from leadhub_salesbyte.channel import SalesByteChannel
from leadhub_salesbyte.config import Config, SalesByteConfig

from hub.plugins.configs import ConfigErrors, config_schema, decode_config

GOOD = {"base_url": "https://acme.salesbyte.example", "uuid": "u-1", "quote_profile_id": 12, "send_type": "email",
        "type": "brand_awareness", "chat_enabled": True, "workflows_enabled": True,
        "allow_customer_document_upload": False, "trigger_created_messages_to_customer": True}


def test_the_example_hub_toml_salesbyte_delivery_decodes(example):
    (delivery,) = [d for d in example["deliveries"] if d["channel"] == "salesbyte"]
    config = decode_config(Config, delivery["config"])
    assert isinstance(config, SalesByteConfig) and SalesByteChannel.Config is Config
    assert config.base_url == "https://acme.salesbyte.example" and config.uuid == "env:SALESBYTE_UUID"
    assert (config.quote_profile_id, config.send_type, config.type) == (12, "email", "brand_awareness")
    assert (config.chat_enabled, config.workflows_enabled, config.allow_customer_document_upload,
            config.trigger_created_messages_to_customer) == (True, True, False, True)
    assert config.salesperson_email == ["ann@acme.example", "bob@acme.example"]
    assert config.timeout_seconds == 10.0  # the default


@pytest.mark.parametrize("salesperson", ["ann@acme.example", ["ann@acme.example", "bob@acme.example"], None])
def test_salesperson_email_may_be_a_string_a_list_or_none(salesperson):
    assert decode_config(Config, {**GOOD, "salesperson_email": salesperson}).salesperson_email == salesperson
    assert decode_config(Config, GOOD).salesperson_email is None


@pytest.mark.parametrize("name, value, message", [
    ("base_url", "acme.salesbyte.example", "regex '^https?://"),
    ("uuid", "", "length >= 1"),
    ("uuid", 42, "expected str, got int"),
    ("quote_profile_id", "twelve", "expected int, got str"),
    ("quote_profile_id", 0, "expected int >= 1"),
    ("send_type", "", "length >= 1"),
    ("type", ["a"], "expected str, got array"),
    ("chat_enabled", "maybe", "expected bool, got str"),
    ("workflows_enabled", 1.5, "expected bool, got float"),
    ("allow_customer_document_upload", None, "expected bool, got null"),
    ("trigger_created_messages_to_customer", {}, "expected bool, got object"),
    ("salesperson_email", 5, "expected str | array | null, got int"),
    ("timeout_seconds", 0, "expected float > 0.0"),
    ("timeout_seconds", 600, "expected float <= 120.0"),
])
def test_each_bad_setting_is_named_with_what_is_wrong(name, value, message):
    with pytest.raises(ConfigErrors) as caught:
        decode_config(Config, {**GOOD, name: value})
    assert list(caught.value.errors) == [name]
    assert message in caught.value.errors[name]


def test_missing_and_unknown_settings_are_each_named():
    with pytest.raises(ConfigErrors) as caught:
        decode_config(Config, {"base_url": "https://x.example", "colour": "red"})
    errors = caught.value.errors
    required = {"uuid", "quote_profile_id", "send_type", "type", "chat_enabled", "workflows_enabled",
                "allow_customer_document_upload", "trigger_created_messages_to_customer"}
    assert {name: errors[name] for name in required} == dict.fromkeys(required, "is required")
    assert errors["colour"].startswith("unknown setting")
    assert set(errors) == required | {"colour"}


def test_the_integration_id_is_a_secret_in_the_form_schema():
    properties = config_schema(Config)["properties"]
    assert properties["uuid"]["writeOnly"] is True and properties["uuid"]["format"] == "password"
    assert not properties["base_url"].get("writeOnly")


def test_mapping_targets_outside_the_api_are_refused_naming_the_allowed_ones():
    channel = SalesByteChannel()
    config = decode_config(Config, GOOD)
    problems = channel.validate_delivery(config, ["customer_name", "FirstName", "tag_11", "uuid"])
    assert set(problems) == {"mapping.FirstName", "mapping.tag_11", "mapping.uuid"}
    for allowed in ("customer_phone", "custom_field_10_content", "tag_10", "message", "salesperson_email"):
        assert allowed in problems["mapping.FirstName"]
    assert channel.validate_delivery(config, list(MAPPABLE)) == {}


def test_a_delivery_without_a_customer_name_target_is_refused():
    problems = SalesByteChannel().validate_delivery(decode_config(Config, GOOD), ["customer_email"])
    assert list(problems) == ["mapping.customer_name"] and "requires customer_name" in problems["mapping.customer_name"]


def test_allowed_targets_are_exactly_the_apis_per_lead_fields():
    expected = {"customer_name", "customer_phone", "customer_email", "customer_company", "salesperson_email",
                "message", *(f"custom_field_{n}_content" for n in range(1, 11)), *(f"tag_{n}" for n in range(1, 11))}
    assert SalesByteChannel.allowed_targets is not None
    assert set(SalesByteChannel.allowed_targets) == expected and len(SalesByteChannel.allowed_targets) == 26


def test_the_plugin_is_registered_under_the_leadhub_entry_point():
    (entry,) = [e for e in importlib.metadata.entry_points(group="leadhub") if e.name == "salesbyte"]
    assert entry.load() is leadhub_salesbyte
    assert leadhub_salesbyte.leadhub_channels() == [SalesByteChannel]
    assert SalesByteChannel.name == "salesbyte"
