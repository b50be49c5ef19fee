"""Settings from the environment, the secret box and the masker."""

from __future__ import annotations

import base64
from typing import Annotated
from urllib.parse import quote

import msgspec
import pytest

from hub import runtime
from hub.plugins.contract import Secret
from hub.secrets import MASK, Masker, SecretBox, SecretError, resolve
from hub.settings import SettingsError, load_settings
from hub.testing.hub import make_test_hub


def test_embedded_defaults_and_a_secret_key_generated_once(tmp_path):
    settings = load_settings({"HUB_DATA_DIR": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path / 'leadhub.db'}"
    assert settings.embedded_broker and settings.is_sqlite
    assert (tmp_path / "secret.key").stat().st_mode & 0o777 == 0o600
    assert load_settings({"HUB_DATA_DIR": str(tmp_path)}).secret_key == settings.secret_key
    assert load_settings({"HUB_DATA_DIR": str(tmp_path), "HUB_SECRET_KEY": "given"}).secret_key == "given"


def test_production_urls_are_taken_as_given(tmp_path):
    settings = load_settings({"HUB_DATA_DIR": str(tmp_path), "HUB_DATABASE_URL": "postgresql+psycopg://h/db",
                              "HUB_BROKER_URL": "redis://127.0.0.1:6379/0"})
    assert settings.database_url == "postgresql+psycopg://h/db" and not settings.embedded_broker


@pytest.mark.parametrize("env, named", [
    ({"HUB_BROKER_URL": "kafka://x"}, "HUB_BROKER_URL"),
    ({"HUB_MAX_BODY_BYTES": "lots"}, "HUB_MAX_BODY_BYTES"),
    ({"HUB_SWEEP_INTERVAL": "soon"}, "HUB_SWEEP_INTERVAL"),
    ({"HUB_SQLITE_SYNCHRONOUS": "OFF"}, "HUB_SQLITE_SYNCHRONOUS"),
])
def test_bad_settings_are_named(tmp_path, env, named):
    with pytest.raises(SettingsError, match=named):
        load_settings({"HUB_DATA_DIR": str(tmp_path), **env})


def test_sealed_secrets_round_trip_and_references_stay_readable():
    box = SecretBox("k1")
    sealed = box.seal("hunter22")
    assert sealed.startswith("enc:") and "hunter22" not in sealed
    assert box.open(sealed) == "hunter22"
    assert box.seal(sealed) == sealed  # sealing twice is harmless
    assert box.seal("env:ACME_PASSWORD") == "env:ACME_PASSWORD"
    with pytest.raises(SecretError, match="HUB_SECRET_KEY"):
        SecretBox("k2").open(sealed)


def test_resolve_env_references():
    box = SecretBox("k")
    env = {"ACME": "from-env"}

    def resolver(value: str) -> str | None:
        return env.get(value[4:]) if value.startswith("env:") else None

    assert resolve("env:ACME", box, resolver) == "from-env"
    assert resolve(box.seal("literal"), box, resolver) == "literal"
    with pytest.raises(SecretError, match="MISSING is not set"):
        resolve("env:MISSING", box, resolver)


def test_masker_hides_plain_url_and_base64_forms_and_auth_headers():
    secret = "p@ss word/1"
    masker = Masker([secret, "ab"])  # too-short values are not masked
    text = f"{secret} {quote(secret, safe='')} {base64.b64encode(secret.encode()).decode()} ab"
    masked = masker.text(text)
    assert secret not in masked and quote(secret, safe="") not in masked and masked.endswith(" ab")
    assert masked.count(MASK) == 3
    assert masker.headers({"Authorization": "Basic xyz", "X-Other": secret}) == {
        "Authorization": MASK, "X-Other": MASK}
    assert masker.deep({"a": [secret, 1], "cookie": "c"}) == {"a": [MASK, 1], "cookie": MASK}


class BuyerSettings(msgspec.Struct):
    url: str
    token: Annotated[str, Secret] = ""


def test_runtime_config_is_shared_briefly_and_follows_changes(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    hub = make_test_hub(tmp_path)
    stored = {"url": "https://buyer.example/a", "token": hub.box.seal("tok-secret-1")}
    first, masker = hub.runtime_config(BuyerSettings, stored)
    assert (first.url, first.token, masker.text("x tok-secret-1 y")) == ("https://buyer.example/a", "tok-secret-1", f"x {MASK} y")
    assert hub.runtime_config(BuyerSettings, dict(stored))[0] is first  # decoded once for many tries
    changed, _ = hub.runtime_config(BuyerSettings, {**stored, "token": hub.box.seal("tok-secret-2")})
    assert changed.token == "tok-secret-2"  # other settings, another answer
    monkeypatch.setattr(runtime, "CONFIG_TTL", 0.0)
    hub._configs.clear()
    again, _ = hub.runtime_config(BuyerSettings, stored)
    assert hub.runtime_config(BuyerSettings, stored)[0] is not again  # expired at once: decoded afresh
    hub.engine.dispose()
