"""The hub's shared runtime: settings, database engine, plugin registry and secret box."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy.engine import Engine

from hub.db import make_engine
from hub.plugins.configs import decode_config, map_secrets, secret_values
from hub.plugins.registry import Registry, load_registry
from hub.secrets import Masker, SecretBox, resolve
from hub.settings import Settings, load_settings


@dataclass
class Hub:
    settings: Settings
    engine: Engine
    registry: Registry
    box: SecretBox

    def open_secret(self, stored: str) -> str:
        """The usable value of a stored secret (decrypted, ``env:`` resolved); raises SecretError."""
        return resolve(stored, self.box, self.registry.resolve_secret)

    def runtime_config(self, cls: type[msgspec.Struct], stored: dict[str, Any]) -> tuple[Any, Masker]:
        """Decode stored plugin settings with secrets opened, and a Masker for what they contain."""
        opened = map_secrets(cls, stored, lambda _path, value: self.open_secret(value))
        return decode_config(cls, opened), Masker(secret_values(cls, opened))


def open_hub(settings: Settings | None = None, registry: Registry | None = None) -> Hub:
    settings = settings or load_settings()
    return Hub(
        settings=settings,
        engine=make_engine(settings.database_url, settings.sqlite_synchronous),
        registry=registry or load_registry(),
        box=SecretBox(settings.secret_key),
    )
