"""Helpers for plugin tests: the generated form's fields, and the per-setting errors of a Config."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest

from hub.plugins.configs import ConfigErrors, config_schema, decode_config


def form_field_names(config_type: Any) -> list[str]:
    """The top-level settings the admin's form shows, in order."""
    return list(config_schema(config_type).get("properties", {}))


def assert_config_errors(config_type: Any, settings: dict[str, Any], expected: Iterable[str]) -> dict[str, str]:
    """Decoding ``settings`` fails naming exactly the ``expected`` settings; returns the messages."""
    with pytest.raises(ConfigErrors) as caught:
        decode_config(config_type, settings)
    assert sorted(caught.value.errors) == sorted(expected), caught.value.errors
    return caught.value.errors
