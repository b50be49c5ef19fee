"""The email export transport: the file attached, or a download link, through a real SMTP server."""

from __future__ import annotations

from pathlib import Path

import httpx
from leadhub_email.channel import EmailChannel, EmailConfig
from leadhub_email.transport import EmailExportConfig, EmailTransport

from hub.mapping.templates import render
from hub.plugins.configs import decode_config
from hub.plugins.contract import ExportContext


def context(config: dict, tmp_path: Path, download_url: str | None = None) -> ExportContext:
    path = tmp_path / "acme-2026-11-22.zip"
    path.write_bytes(b"PK\x03\x04 not really a zip \x00\xff")
    variables = {"date": "2026-11-22", "buyer": "acme", "export": "acme-daily", "filename": path.name,
                 "row_count": 3, "download_url": download_url}
    return ExportContext(config=decode_config(EmailExportConfig, {"from_address": "files@hub.example", **config}),
                         path=path, filename=path.name, buyer={"slug": "acme"}, export="acme-daily", run_id=9,
                         row_count=3, download_url=download_url, render=lambda t: render(t, variables))


def smtp(server) -> dict:  # type: ignore[no-untyped-def]
    return {"smtp_host": "127.0.0.1", "smtp_port": server.port, "to": ["leads@acme.example"]}


def test_the_file_is_attached_byte_for_byte(smtp_server, tmp_path):
    ctx = context(smtp(smtp_server), tmp_path)
    result = EmailTransport().send(ctx)
    assert result.outcome == "accepted" and result.location == "mailto:leads@acme.example"
    ((_, message),) = smtp_server.mailbox.messages
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == "acme-2026-11-22.zip" and attachment.get_content_type() == "application/zip"
    assert attachment.get_content() == ctx.path.read_bytes()
    assert message["Subject"] == "Your leads: acme-2026-11-22.zip" and "has 3 leads" in message.get_body(("plain",)).get_content()


def test_link_mode_sends_the_download_page_not_the_file(smtp_server, tmp_path):
    url = "https://hub.example/downloads/9"
    result = EmailTransport().send(context({**smtp(smtp_server), "attach": "link", "subject": "Your weekly leads",
                                            "body": "Your file is ready."}, tmp_path, download_url=url))
    assert result.outcome == "accepted"
    ((_, message),) = smtp_server.mailbox.messages
    assert list(message.iter_attachments()) == []
    text = message.get_body(("plain",)).get_content()
    assert text.startswith("Your file is ready.") and url in text and "sign in" in text


def test_link_mode_without_a_link_and_bad_servers(smtp_server, tmp_path):
    assert EmailTransport().send(context({**smtp(smtp_server), "attach": "link"}, tmp_path)).outcome == "rejected"
    down = EmailTransport().send(context({"smtp_host": "127.0.0.1", "smtp_port": 9, "to": ["a@b.example"]}, tmp_path))
    assert down.outcome == "failed"


def test_connection_checks(smtp_server, starttls_server):
    assert EmailTransport().check(decode_config(EmailExportConfig, {**smtp(smtp_server), "from_address": "a@b.c"})).ok
    with httpx.Client() as http:
        good = decode_config(EmailConfig, {"smtp_host": "127.0.0.1", "smtp_port": starttls_server.port,
                                           "smtp_security": "starttls", "smtp_username": "hub",
                                           "smtp_password": "s3cret-pass", "smtp_ca_file": starttls_server.ca_file,
                                           "from_address": "a@b.example"})
        assert EmailChannel().check(good, http).ok
        bad = decode_config(EmailConfig, {"smtp_host": "127.0.0.1", "smtp_port": 9, "from_address": "a@b.example"})
        assert not EmailChannel().check(bad, http).ok


def test_the_example_export_configuration_decodes():
    config = decode_config(EmailExportConfig, {"to": ["leads@acme.example"], "subject": "Your weekly leads",
                                               "body": "Your file is ready.", "attach": "link"})
    assert config.attach == "link"


def test_a_password_zip_attachment_opens_in_7z(smtp_server, tmp_path):
    import shutil
    import subprocess

    from hub.export.files import write_rows, zip_with_password

    if shutil.which("7z") is None:
        import pytest

        pytest.skip("7z not installed (Debian p7zip-full)")
    csv_file = tmp_path / "acme-2026-11-22.csv"
    write_rows(csv_file, "csv", ["Email"], iter([["ann@example.com"]]))
    zipped = tmp_path / "made.zip"
    zip_with_password(csv_file, zipped, "s3cret zip", csv_file.name)
    ctx = context(smtp(smtp_server), tmp_path)
    ctx.path.write_bytes(zipped.read_bytes())  # the export file the transport sends
    assert EmailTransport().send(ctx).outcome == "accepted"
    ((_, message),) = smtp_server.mailbox.messages
    (attachment,) = list(message.iter_attachments())
    received = tmp_path / "received.zip"
    received.write_bytes(attachment.get_content())
    out = tmp_path / "opened"
    subprocess.run(["7z", "x", "-ps3cret zip", f"-o{out}", str(received)], check=True, capture_output=True)
    assert (out / "acme-2026-11-22.csv").read_bytes() == b"Email\r\nann@example.com\r\n"
