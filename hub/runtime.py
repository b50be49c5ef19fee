"""The hub's shared runtime: settings, database engine, plugin registry and secret box."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import msgspec
from sqlalchemy.engine import Engine

from hub.db import make_engine
from hub.plugins.configs import decode_config, map_secrets, secret_values
from hub.plugins.registry import Registry, load_registry
from hub.secrets import Masker, SecretBox, resolve
from hub.settings import Settings, load_settings

CONFIG_TTL = 5.0


@dataclass
class Hub:
    settings: Settings
    engine: Engine
    registry: Registry
    box: SecretBox
    # runtime_config's answers, briefly: a worker decodes the same few settings for every try.
    _configs: dict[tuple[type, bytes], tuple[float, Any, Masker]] = field(default_factory=dict, repr=False)

    def open_secret(self, stored: str) -> str:
        """The usable value of a stored secret (decrypted, ``env:`` resolved); raises SecretError."""
        return resolve(stored, self.box, self.registry.resolve_secret)

    def runtime_config(self, cls: type[msgspec.Struct], stored: dict[str, Any]) -> tuple[Any, Masker]:
        """Decode stored plugin settings with secrets opened, and a Masker for what they contain.

        The answer is shared for ``CONFIG_TTL`` seconds by tries of the same settings (plugins
        must treat ``ctx.config`` as read-only): a secret resolved by a plugin hook that
        rotates is picked up within that time.
        """
        key = (cls, msgspec.json.encode(stored))
        now = time.monotonic()
        cached = self._configs.get(key)
        if cached is not None and cached[0] > now:
            return cached[1], cached[2]
        opened = map_secrets(cls, stored, lambda _path, value: self.open_secret(value))
        config, masker = decode_config(cls, opened), Masker(secret_values(cls, opened))
        if len(self._configs) >= 256:
            self._configs.clear()
        self._configs[key] = (now + CONFIG_TTL, config, masker)
        return config, masker


def open_hub(settings: Settings | None = None, registry: Registry | None = None) -> Hub:
    settings = settings or load_settings()
    return Hub(
        settings=settings,
        engine=make_engine(settings.database_url, settings.sqlite_synchronous),
        registry=registry or load_registry(),
        box=SecretBox(settings.secret_key),
    )
