"""The leadhub command: help everywhere, tokens, plugins, replay, and one-line errors."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from hub.accounts.tokens import verify_token
from hub.cli import main
from hub.migrate import upgrade
from hub.runtime import open_hub
from hub.settings import load_settings

COMMANDS = [[], ["serve"], ["worker"], ["apply"], ["dump"], ["plugins"], ["tokens"], ["tokens", "create"],
            ["tokens", "list"], ["tokens", "revoke"], ["replay"], ["db"], ["db", "upgrade"], ["scheduler"],
            ["exports"], ["exports", "list"], ["exports", "run"], ["exports", "rerun"], ["buyers"],
            ["buyers", "invite"], ["users"], ["users", "create"], ["plugin"], ["plugin", "new"]]


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


def test_exports_run_prints_the_outcome_and_fails_loudly(run, tmp_path):
    from hub.config.apply import apply_document

    outbox = tmp_path / "outbox"
    outbox.mkdir()
    hub = open_hub(load_settings({"HUB_DATA_DIR": str(tmp_path)}))
    upgrade(hub.engine)
    apply_document(hub, {
        "sources": [{"slug": "form", "fields": [{"name": "email", "type": "email"}]}],
        "buyers": [{"slug": "acme"}],
        "exports": [{"slug": "daily", "buyer": "acme", "sources": ["form"], "schedule": "0 9 * * *",
                     "transport": "directory", "config": {"path": str(outbox)}},
                    {"slug": "broken", "buyer": "acme", "sources": ["form"], "schedule": "0 9 * * *",
                     "transport": "directory", "config": {"path": str(tmp_path / "missing")}, "max_attempts": 1}]})
    ok = run("exports", "run", "daily")
    assert ok.exit_code == 0 and "succeeded" in ok.output and "sha256" in ok.output
    assert len(list(outbox.iterdir())) == 1
    broken = CliRunner().invoke(main, ["exports", "run", "broken"])
    assert broken.exit_code == 1 and "failed" in broken.output and "not a folder" in broken.output
    missing = run("exports", "run", "nope")
    assert missing.exit_code == 1 and "no export 'nope'" in missing.output
    run_id = ok.output.split()[1].rstrip(":")
    again = run("exports", "rerun", run_id)
    assert again.exit_code == 0 and "succeeded" in again.output
    assert "daily" in run("exports", "list").output


def test_buyers_invite_prints_a_one_time_link(run, tmp_path):
    from hub.config.apply import apply_document

    hub = open_hub(load_settings({"HUB_DATA_DIR": str(tmp_path)}))
    upgrade(hub.engine)
    apply_document(hub, {"buyers": [{"slug": "acme"}]})
    result = run("buyers", "invite", "acme", "ops@acme.example")
    assert result.exit_code == 0 and "/buyer/welcome/" in result.output.strip().splitlines()[-1]
    assert run("buyers", "invite", "ghost", "a@b.example").exit_code == 1
