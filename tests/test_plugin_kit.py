"""The plugin author's path, for real: scaffold a package, install it, and an out-of-tree plugin end to end.

These tests install packages into the test environment and remove them afterwards.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from hub.testing.process import HubProcess

UV = Path(sys.executable).parent / "uv"
EXAMPLE = Path(__file__).parent / "example_plugin"


def run(*args: str, env: dict[str, str] | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(list(args), capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=300)
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def leadhub(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run(sys.executable, "-m", "hub.cli", *args, env=env, check=False)


@pytest.fixture
def installed():  # type: ignore[no-untyped-def]
    """Install editable packages for one test; uninstall them whatever happens."""
    names: list[str] = []

    def install(path: Path, distribution: str) -> None:
        run(str(UV), "pip", "install", "-q", "--python", sys.executable, "-e", str(path))
        names.append(distribution)

    yield install
    for name in names:
        run(str(UV), "pip", "uninstall", "-q", "--python", sys.executable, name, check=False)


@pytest.mark.parametrize("kind, tests_passed, listed", [("channel", 4, "Demo Hook"), ("transport", 3, "Demo Hook"),
                                                        ("transforms", 2, "demo_hook_initials")])
def test_a_scaffolded_plugin_passes_its_own_tests_right_after_install(tmp_path, installed, kind, tests_passed, listed):
    env = {"HUB_DATA_DIR": str(tmp_path / "var")}
    made = leadhub("plugin", "new", "demo-hook", "--kind", kind, "--dir", str(tmp_path / "demo"), env=env)
    assert made.returncode == 0, made.stderr
    installed(tmp_path / "demo", "leadhub-demo-hook")
    tests = run(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path / "demo"), check=False)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert f"{tests_passed} passed" in tests.stdout
    assert listed in leadhub("plugins", env=env).stdout
    assert leadhub("plugin", "new", "demo-hook", "--dir", str(tmp_path / "demo"), env=env).returncode == 1


def test_an_out_of_tree_plugin_is_listed_configured_rendered_and_delivers(tmp_path, installed, http_peer):
    installed(EXAMPLE, "leadhub-slack-example")
    env = {"HUB_DATA_DIR": str(tmp_path)}
    listing = leadhub("plugins", env=env).stdout
    assert "slack_example          leadhub-slack-example 0.3.0" in listing
    assert re.search(r"broken_example .*REFUSED: cannot be imported: ModuleNotFoundError", listing)
    assert "http_post" in listing  # the broken plugin took nothing else down

    http_peer.respond(status=200, body="ok")
    config = tmp_path / "hub.toml"
    config.write_text(f"""
[[sources]]
slug = "form"
api_key = "k"
fields = [{{ name = "first_name", type = "string" }}, {{ name = "email", type = "email" }}]
[[deliveries]]
slug = "team-slack"
sources = ["form"]
channel = "slack_example"
[deliveries.config]
webhook_url = "{http_peer.url}/services/T000/B000/XXXX"
""")
    applied = leadhub("apply", str(config), env=env)
    assert applied.returncode == 0 and "delivery team-slack: created" in applied.stdout, applied.stderr
    assert leadhub("users", "create", "boss@example.com", "--admin", "--password", "a long password",
                   env=env).returncode == 0

    server = HubProcess({**env, "HUB_RETRY_BASE_SECONDS": "0.2"}, tmp_path / "serve.log").start()
    try:
        with httpx.Client(base_url=server.url) as client:
            token = re.search(r'name="_csrf_token" value="([^"]+)"', client.get("/admin/login").text).group(1)
            client.post("/admin/login", data={"_csrf_token": token, "email": "boss@example.com",
                                              "password": "a long password"})
            form = client.get("/admin/deliveries/new?channel=slack_example").text
            assert 'name="config.webhook_url"' in form and 'type="password"' in form and "#leads" in form
            edit = client.get("/admin/deliveries/team-slack").text
            assert "services/T000" not in edit  # a secret setting is never shown again
            crash = client.post("/webhooks/form?key=k", json={"first_name": "C", "email": "crash@example.com"})
            good = client.post("/webhooks/form?key=k", json={"first_name": "Ann", "email": "ann@example.com"})
            assert crash.status_code == good.status_code == 202
        (request,) = http_peer.wait_for(1, timeout=10)
        assert request.json() == {"text": ":tada: New lead Ann (ann@example.com)", "channel": "#leads"}
    finally:
        server.stop()
    log = (tmp_path / "serve.log").read_text()
    assert "the example plugin crashes on purpose" in log  # reported, and the hub kept delivering
