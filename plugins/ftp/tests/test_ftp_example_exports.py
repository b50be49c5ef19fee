"""The example's two exports, pointed at local servers: a password ZIP over SFTP, and a login-protected link."""

from __future__ import annotations

import os
import re
import subprocess
import tomllib
from pathlib import Path

import pytest
from litestar.testing import TestClient

from hub.accounts.buyers import accept_invite, invite_buyer
from hub.config.apply import apply_document
from hub.export.runs import ExportRunner, run_now
from hub.testing.hub import make_test_hub
from hub.web.app import create_app

EXAMPLE = Path(__file__).resolve().parents[4] / "shared" / "examples" / "hub.toml"


def sign_in(client: TestClient, who: str) -> None:
    page = client.get("/buyer/login")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)
    answer = client.post("/buyer/login", data={"_csrf_token": token, "email": who, "password": "a long password"},
                         follow_redirects=False)
    assert answer.status_code in (302, 303), answer.text


def test_run_now_sends_a_zip_over_sftp_and_a_link_only_its_buyer_can_follow(tmp_path, monkeypatch, sftp_server,
                                                                             inbox):
    if not EXAMPLE.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{EXAMPLE} is missing")
        pytest.skip(f"{EXAMPLE} not found")
    for name, value in {"FORM_SOURCE_KEY": "form-key", "ACME_ZIP_PASSWORD": "zip pass 1",
                        "ACME_SFTP_PASSWORD": "ftp-pa55",
                        "HUB_SMTP_URL": f"smtp://127.0.0.1:{inbox.port}?from=files%40hub.example"}.items():
        monkeypatch.setenv(name, value)
    example = tomllib.loads(EXAMPLE.read_text())
    daily, weekly = example["exports"]
    daily["config"].update(host="127.0.0.1", port=sftp_server.port, host_key_fingerprint=sftp_server.fingerprint)
    hub = make_test_hub(tmp_path)
    apply_document(hub, {"sources": example["sources"], "buyers": [*example["buyers"], {"slug": "globex"}],
                         "exports": [daily, weekly]})
    accept_invite(hub.engine, invite_buyer(hub.engine, "acme", "ops@acme.example"), "a long password")
    accept_invite(hub.engine, invite_buyer(hub.engine, "globex", "ops@globex.example"), "a long password")

    with TestClient(create_app(hub, embedded=False)) as client:
        for who in ("ann", "bob"):
            answer = client.post("/webhooks/home-insurance-form", headers={"X-API-Key": "form-key"}, json={
                "first_name": who.title(), "last_name": "Lee", "email": f"{who}@example.com", "consent": True})
            assert answer.status_code == 202, answer.text

        zipped = ExportRunner(hub).execute(run_now(hub, "acme-daily").id)
        assert zipped.status == "succeeded", zipped.message
        (remote,) = (sftp_server.root / "incoming").iterdir()
        assert remote.name == zipped.filename and remote.suffix == ".zip"
        out = tmp_path / "opened"
        subprocess.run(["7z", "x", "-pzip pass 1", f"-o{out}", str(remote)], check=True, capture_output=True)
        (csv_file,) = out.iterdir()
        assert csv_file.read_bytes() == b"Email\r\nann@example.com\r\nbob@example.com\r\n"

        linked = ExportRunner(hub).execute(run_now(hub, "acme-weekly-link").id)
        assert linked.status == "succeeded", linked.message
        (message,) = inbox.messages
        assert message["Subject"] == "Your weekly leads" and list(message.iter_attachments()) == []
        link = re.search(r"https?://\S+/downloads/(\d+)", message.get_content()).group(0)
        path = "/downloads/" + link.rsplit("/", 1)[1]

        assert client.get(path, follow_redirects=False).status_code in (302, 303)  # must sign in first
        sign_in(client, "ops@globex.example")
        assert client.get(path).status_code == 404  # another buyer: as if it did not exist
        client.cookies.clear()
        sign_in(client, "ops@acme.example")
        download = client.get(path)
        assert download.status_code == 200
        assert download.text.startswith("first_name,last_name,email") and "bob@example.com" in download.text
