"""The leadhub command: help everywhere, tokens, plugins, replay, and one-line errors."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from hub.accounts.tokens import verify_token
from hub.cli import main
from hub.runtime import open_hub
from hub.settings import load_settings

COMMANDS = [[], ["serve"], ["worker"], ["apply"], ["dump"], ["plugins"], ["tokens"], ["tokens", "create"],
            ["tokens", "list"], ["tokens", "revoke"], ["replay"], ["db"], ["db", "upgrade"], ["scheduler"],
            ["exports"], ["exports", "list"], ["exports", "run"], ["exports", "rerun"], ["buyers"],
            ["buyers", "invite"]]


@pytest.fixture
def run(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("HUB_DATA_DIR", str(tmp_path))
    for name in ("HUB_DATABASE_URL", "HUB_BROKER_URL", "HUB_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)

    def run(*args: str):  # type: ignore[no-untyped-def]
        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    return run


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "leadhub")
def test_help_everywhere(run, command):
    result = run(*command, "--help")
    assert result.exit_code == 0 and "Usage:" in result.output


def test_token_is_alone_on_the_last_line_and_works(run, tmp_path):
    result = run("tokens", "create", "ci")
    assert result.exit_code == 0
    token = result.output.strip().splitlines()[-1]
    hub = open_hub(load_settings({"HUB_DATA_DIR": str(tmp_path)}))
    assert verify_token(hub.engine, token) is not None
    assert "ci" in run("tokens", "list").output and token not in run("tokens", "list").output
    assert run("tokens", "revoke", "ci").exit_code == 0
    assert verify_token(hub.engine, token) is None
    missing = run("tokens", "revoke", "ci")
    assert missing.exit_code == 1 and "no active token" in missing.output


def test_plugins_lists_channels_and_transforms(run):
    output = run("plugins").output
    assert "http_post" in output and "core_transforms" in output and "e164" in output


@pytest.mark.parametrize("args, env, message", [
    (["replay"], {}, "say what to replay"),
    (["worker"], {}, "needs HUB_BROKER_URL"),
    (["db", "upgrade"], {"HUB_BROKER_URL": "kafka://x"}, "HUB_BROKER_URL must start with"),
    (["db", "upgrade"], {"HUB_DATABASE_URL": "nosuchdb://x"}, "Error:"),
])
def test_errors_are_one_line_without_a_traceback(run, monkeypatch, args, env, message):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = run(*args)
    assert result.exit_code != 0
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_db_upgrade(run):
    result = run("db", "upgrade")
    assert result.exit_code == 0 and "up to date" in result.output
