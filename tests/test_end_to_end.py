"""The issue's definition of done, as a user would do it: serve, apply, post, and the buyer has it."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx

from hub.testing.process import HubProcess

CONFIG = """
[[sources]]
slug = "landing-page"
api_key = "env:TOUR_KEY"
fields = [
  {{ name = "first_name", type = "string", required = true }},
  {{ name = "email", type = "email", required = true }},
  {{ name = "phone", type = "phone", country = "GB" }},
]

[[buyers]]
slug = "acme"

[[deliveries]]
slug = "acme-api"
buyer = "acme"
sources = ["landing-page"]
channel = "http_post"
[deliveries.config]
url = "{url}/leads"
accept = {{ status = [201] }}
remote_id = {{ json_path = "$.id" }}
[[deliveries.mapping]]
target = "Name"
template = "{{{{ first_name | upper }}}}"
[[deliveries.mapping]]
target = "Phone"
source = "phone"
"""


def leadhub(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hub.cli", *args], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=60)


def test_serve_apply_post_and_the_buyer_receives_the_mapped_lead_within_a_second(tmp_path, http_peer):
    env = {"HUB_DATA_DIR": str(tmp_path), "TOUR_KEY": "tour-key"}
    http_peer.respond(status=201, json={"id": "B-1"})
    server = HubProcess(env, tmp_path / "serve.log").start()
    try:
        config = tmp_path / "hub.toml"
        config.write_text(CONFIG.format(url=http_peer.url))
        applied = leadhub("apply", str(config), env=env)
        assert applied.returncode == 0, applied.stderr
        assert "delivery acme-api: created" in applied.stdout

        started = time.monotonic()
        answer = httpx.post(f"{server.url}/webhooks/landing-page", headers={"X-API-Key": "tour-key"},
                            json={"first_name": "Ann", "email": "ann@example.com", "phone": "07911 123456"})
        assert answer.status_code == 202, answer.text
        (request,) = http_peer.wait_for(1, timeout=1.0)
        assert request.received_at - started < 1.0
        assert request.json() == {"Name": "ANN", "Phone": "+447911123456"}

        token = leadhub("tokens", "create", "e2e", env=env).stdout.strip().splitlines()[-1]
        lead_id = answer.json()["lead_id"]
        for _ in range(50):
            record = httpx.get(f"{server.url}/api/v1/leads/{lead_id}",
                               headers={"Authorization": f"Bearer {token}"}).json()
            if record["dispatches"][0]["status"] == "accepted":
                break
            time.sleep(0.05)
        (dispatch,) = record["dispatches"]
        assert dispatch["delivery"] == "acme-api" and dispatch["remote_id"] == "B-1"
        assert dispatch["attempts"][0]["response"]["status"] == 201

        dumped = leadhub("dump", env=env)
        assert dumped.returncode == 0 and 'api_key = "env:TOUR_KEY"' in dumped.stdout
    finally:
        server.stop()


def test_apply_refuses_a_bad_file_with_every_problem(tmp_path):
    env = {"HUB_DATA_DIR": str(tmp_path)}
    config = tmp_path / "bad.toml"
    config.write_text('[[deliveries]]\nslug = "x"\nchannel = "carrier-pigeon"\nsources = ["nowhere"]\n')
    result = leadhub("apply", str(config), env=env)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "no such channel 'carrier-pigeon'" in result.stderr and "no source 'nowhere'" in result.stderr
