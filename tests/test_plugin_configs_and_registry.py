"""Plugin configs (errors per field, secrets) and the entry-point registry."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
import pytest

from hub.plugins.configs import (
    ConfigErrors,
    config_schema,
    decode_config,
    map_secrets,
    mask_config,
    secret_values,
)
from hub.plugins.contract import Channel, Secret
from hub.plugins.hookspecs import PLUGIN_API_VERSION, hookimpl
from hub.plugins.registry import load_registry
from hub.secrets import MASK


class Basic(msgspec.Struct, tag_field="type", tag="basic", forbid_unknown_fields=True):
    username: str
    password: Annotated[str, Secret]


class Bearer(msgspec.Struct, tag_field="type", tag="bearer", forbid_unknown_fields=True):
    token: Annotated[str, Secret]


class Config(msgspec.Struct, forbid_unknown_fields=True):
    url: str
    method: Literal["POST", "GET"] = "POST"
    timeout_seconds: Annotated[float, msgspec.Meta(gt=0, le=120)] = 10
    auth: Basic | Bearer | None = None


def test_every_bad_setting_is_named():
    with pytest.raises(ConfigErrors) as caught:
        decode_config(Config, {"method": "PATCH", "timeout_seconds": -1, "colour": "red"})
    errors = caught.value.errors
    assert errors["url"] == "is required"
    assert "method" in errors and "timeout_seconds" in errors and "colour" in errors


def test_nested_union_errors_have_a_path():
    with pytest.raises(ConfigErrors) as caught:
        decode_config(Config, {"url": "u", "auth": {"type": "basic", "username": "x"}})
    assert any(key.startswith("auth") for key in caught.value.errors)


def test_secrets_are_found_in_tagged_unions_and_masked():
    data = {"url": "u", "auth": {"type": "basic", "username": "hub", "password": "pw-123"}}
    assert secret_values(Config, data) == ["pw-123"]
    assert mask_config(Config, data)["auth"] == {"type": "basic", "username": "hub", "password": MASK}
    sealed = map_secrets(Config, data, lambda path, value: f"<{path}>")
    assert sealed["auth"]["password"] == "<auth.password>" and sealed["auth"]["username"] == "hub"


def test_schema_marks_secrets_write_only():
    schema = config_schema(Config)
    assert "writeOnly" in repr(schema) and "password" in repr(schema)


class Good(Channel):
    name, title, Config = "good", "Good", Config


class NotAChannel:
    name, title, Config = "bad", "Bad", Config


class Broken:
    @hookimpl
    def leadhub_channels(self) -> list[type]:
        raise RuntimeError("boom")


class Mixed:
    @hookimpl
    def leadhub_channels(self) -> list[type]:
        return [Good, NotAChannel]


class Future:
    LEADHUB_PLUGIN_API = ">=2"

    @hookimpl
    def leadhub_channels(self) -> list[type]:
        return [Good]


def test_built_in_plugins_load_from_entry_points():
    registry = load_registry()
    names = {p.name for p in registry.plugins}
    assert {"core_transforms", "env_secrets"} <= names
    assert "e164" in registry.transforms
    assert registry.channel("http_post").name == "http_post"


def test_a_broken_plugin_is_reported_and_others_still_load():
    registry = load_registry(extra_plugins=[("broken", Broken()), ("mixed", Mixed()), ("future", Future())])
    assert "good" in registry.channels and "bad" not in registry.channels
    problems = "\n".join(registry.problems)
    assert "boom" in problems and "not a subclass" in problems
    assert f"this hub provides {PLUGIN_API_VERSION}" in problems
    with pytest.raises(LookupError, match="no such channel 'nope'"):
        registry.channel("nope")
