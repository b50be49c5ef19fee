"""FTP, FTPS and SFTP uploads against real servers: temporary names, modes, keys and refusals."""

from __future__ import annotations

from pathlib import Path

import pytest
from leadhub_ftp.ftp import FtpConfig, FtpsConfig, FtpsTransport, FtpTransport
from leadhub_ftp.paths import remote_paths
from leadhub_ftp.sftp import SftpConfig, SftpTransport

from hub.mapping.templates import render
from hub.plugins.configs import ConfigErrors, decode_config
from hub.plugins.contract import ExportContext

USER, PASSWORD = "leads", "ftp-pa55"
CONTENT = b"Email\r\nann@example.com\r\n" * 1000


def context(transport, settings: dict, tmp_path: Path, state_dir: Path | None = None) -> ExportContext:  # type: ignore[no-untyped-def]
    path = tmp_path / "out" / "acme-2026-11-22.csv"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(CONTENT)
    return ExportContext(config=decode_config(transport.Config, settings), path=path, filename=path.name,
                         buyer={"slug": "acme"}, export="acme-daily", run_id=5, row_count=1000,
                         render=lambda t: render(t, {}), state_dir=state_dir)


def test_remote_paths_hide_the_partial_file():
    assert remote_paths("/incoming", "a.csv", 7) == ("/incoming/.a.csv.7.part", "/incoming/a.csv")


@pytest.mark.parametrize("passive", [True, False], ids=["passive", "active"])
def test_ftp_upload_in_both_modes(ftp_server, tmp_path, passive):
    settings = {"host": "127.0.0.1", "port": ftp_server.port, "username": USER, "password": PASSWORD,
                "directory": "/incoming", "passive": passive}
    result = FtpTransport().send(context(FtpTransport, settings, tmp_path))
    assert result.outcome == "accepted", result.message
    assert result.location == "ftp://127.0.0.1/incoming/acme-2026-11-22.csv"
    assert [p.name for p in (ftp_server.root / "incoming").iterdir()] == ["acme-2026-11-22.csv"]  # no .part left
    assert (ftp_server.root / "incoming" / "acme-2026-11-22.csv").read_bytes() == CONTENT
    # A second run replaces the file.
    assert FtpTransport().send(context(FtpTransport, settings, tmp_path)).outcome == "accepted"


@pytest.mark.parametrize("passive", [True, False], ids=["passive", "active"])
def test_ftps_upload_with_tls_in_both_modes(ftps_server, tmp_path, passive):
    settings = {"host": "127.0.0.1", "port": ftps_server.port, "username": USER, "password": PASSWORD,
                "directory": "/incoming", "passive": passive, "ca_file": ftps_server.ca_file}
    result = FtpsTransport().send(context(FtpsTransport, settings, tmp_path))
    assert result.outcome == "accepted", result.message
    assert (ftps_server.root / "incoming" / "acme-2026-11-22.csv").read_bytes() == CONTENT
    untrusted = FtpsTransport().send(context(FtpsTransport, {**settings, "ca_file": ""}, tmp_path))
    assert untrusted.outcome == "rejected" and "not trusted" in untrusted.message


def test_ftp_refusals_and_outages(ftp_server, tmp_path):
    base = {"host": "127.0.0.1", "port": ftp_server.port, "username": USER, "password": PASSWORD,
            "timeout_seconds": 10}
    wrong = FtpTransport().send(context(FtpTransport, {**base, "password": "nope"}, tmp_path))
    assert wrong.outcome == "rejected" and "530" in wrong.message
    missing = FtpTransport().send(context(FtpTransport, {**base, "directory": "/nowhere"}, tmp_path))
    assert missing.outcome == "rejected"
    down = FtpTransport().send(context(FtpTransport, {**base, "port": 9}, tmp_path))
    assert down.outcome == "failed"
    assert FtpTransport().check(decode_config(FtpConfig, {**base, "directory": "/incoming"})).ok
    assert not FtpTransport().check(decode_config(FtpConfig, {**base, "password": "x"})).ok


def sftp_settings(server, **extra) -> dict:  # type: ignore[no-untyped-def]
    return {"host": "127.0.0.1", "port": server.port, "username": USER, "password": PASSWORD,
            "directory": "/incoming", "host_key_fingerprint": server.fingerprint, **extra}


def test_sftp_with_a_password_and_a_pinned_key(sftp_server, tmp_path):
    result = SftpTransport().send(context(SftpTransport, sftp_settings(sftp_server), tmp_path))
    assert result.outcome == "accepted", result.message
    assert [p.name for p in (sftp_server.root / "incoming").iterdir()] == ["acme-2026-11-22.csv"]
    assert (sftp_server.root / "incoming" / "acme-2026-11-22.csv").read_bytes() == CONTENT
    assert SftpTransport().send(context(SftpTransport, sftp_settings(sftp_server), tmp_path)).outcome == "accepted"


def test_sftp_with_a_private_key(sftp_server, tmp_path):
    settings = sftp_settings(sftp_server, password="", private_key=sftp_server.client_key)
    assert SftpTransport().send(context(SftpTransport, settings, tmp_path)).outcome == "accepted"


def test_sftp_refuses_unknown_or_changed_host_keys(sftp_server, tmp_path):
    unknown = SftpTransport().send(context(SftpTransport, sftp_settings(sftp_server, host_key_fingerprint=""),
                                           tmp_path))
    assert unknown.outcome == "rejected" and sftp_server.fingerprint in unknown.message
    wrong = SftpTransport().send(context(SftpTransport, sftp_settings(
        sftp_server, host_key_fingerprint="SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), tmp_path))
    assert wrong.outcome == "rejected" and "not the pinned" in wrong.message
    state = tmp_path / "state"
    state.mkdir()
    tofu = sftp_settings(sftp_server, host_key_fingerprint="", trust_on_first_use=True)
    assert SftpTransport().send(context(SftpTransport, tofu, tmp_path, state)).outcome == "accepted"
    (state / "sftp_known_hosts.json").write_text(
        (state / "sftp_known_hosts.json").read_text().replace(sftp_server.fingerprint, "SHA256:old"))
    changed = SftpTransport().send(context(SftpTransport, tofu, tmp_path, state))
    assert changed.outcome == "rejected" and "CHANGED" in changed.message


def test_sftp_refusals_and_outages(sftp_server, tmp_path):
    wrong = SftpTransport().send(context(SftpTransport, sftp_settings(sftp_server, password="nope"), tmp_path))
    assert wrong.outcome == "rejected"
    missing = SftpTransport().send(context(SftpTransport, sftp_settings(sftp_server, directory="/nowhere"), tmp_path))
    assert missing.outcome == "rejected" and "does not exist" in missing.message
    down = SftpTransport().send(context(SftpTransport, sftp_settings(sftp_server, port=9), tmp_path))
    assert down.outcome == "failed"
    assert SftpTransport().check(decode_config(SftpConfig, sftp_settings(sftp_server))).ok


def test_settings():
    with pytest.raises(ConfigErrors, match="password or a private_key"):
        decode_config(SftpConfig, {"host": "h", "username": "u"})
    example = decode_config(SftpConfig, {"host": "sftp.acme.example", "port": 22, "username": "leads",
                                         "password": "env:ACME_SFTP_PASSWORD", "directory": "/incoming"})
    assert example.port == 22 and decode_config(FtpsConfig, {"host": "h", "username": "u"}).port == 21
