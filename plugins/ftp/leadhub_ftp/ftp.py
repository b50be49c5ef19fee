"""FTP and FTPS (explicit TLS, AUTH TLS) with ftplib, passive or active."""

from __future__ import annotations

import ftplib
import socket
import ssl
from typing import Annotated

import msgspec

from hub.plugins.contract import (
    CheckResult,
    ExportContext,
    ExportTransport,
    Outcome,
    Secret,
    TransportResult,
)
from leadhub_ftp.paths import remote_paths


class FtpConfig(msgspec.Struct, forbid_unknown_fields=True):
    """Upload export files to an FTP server."""

    host: str
    username: str
    password: Annotated[str, Secret] = ""
    port: Annotated[int, msgspec.Meta(ge=1, le=65535)] = 21
    directory: str = "/"
    passive: Annotated[bool, msgspec.Meta(description="Passive mode (works through most firewalls)")] = True
    timeout_seconds: Annotated[float, msgspec.Meta(gt=0, le=300)] = 30.0


class FtpsConfig(FtpConfig, forbid_unknown_fields=True):
    """Upload export files to an FTP server over explicit TLS (FTPS, AUTH TLS)."""

    verify_tls: bool = True
    ca_file: Annotated[str, msgspec.Meta(description="A CA bundle for a private certificate")] = ""


def _classify(exc: BaseException, host: str) -> TransportResult:
    if isinstance(exc, ftplib.error_perm):  # 5xx: login refused, no such folder, no permission
        return TransportResult(outcome=Outcome.REJECTED, message=f"{host} refused: {exc}")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return TransportResult(outcome=Outcome.REJECTED, message=f"{host}'s certificate is not trusted: {exc.verify_message}")
    kind = "timed out" if isinstance(exc, socket.timeout) else str(exc) or type(exc).__name__
    return TransportResult(outcome=Outcome.FAILED, message=f"FTP to {host} failed: {kind}")


class FtpTransport(ExportTransport):
    name = "ftp"
    title = "FTP"
    Config = FtpConfig

    def connect(self, config: FtpConfig) -> ftplib.FTP:
        client = ftplib.FTP(timeout=config.timeout_seconds)
        client.connect(config.host, config.port)
        client.login(config.username, config.password)
        client.set_pasv(config.passive)
        return client

    def send(self, ctx: ExportContext) -> TransportResult:
        config = ctx.config
        temporary, final = remote_paths(config.directory, ctx.filename, ctx.run_id)
        try:
            client = self.connect(config)
        except (ftplib.Error, OSError, EOFError) as exc:
            return _classify(exc, config.host)
        try:
            with open(ctx.path, "rb") as fh:
                client.storbinary(f"STOR {temporary}", fh)
            try:
                client.delete(final)  # some servers refuse to rename over an existing file
            except ftplib.error_perm:
                pass
            client.rename(temporary, final)
        except (ftplib.Error, OSError, EOFError) as exc:
            try:
                client.delete(temporary)
            except (ftplib.Error, OSError, EOFError):
                pass
            return _classify(exc, config.host)
        finally:
            try:
                client.quit()
            except (ftplib.Error, OSError, EOFError):
                client.close()
        return TransportResult(outcome=Outcome.ACCEPTED, location=f"{self.name}://{config.host}{final}")

    def check(self, config: FtpConfig) -> CheckResult:
        try:
            client = self.connect(config)
            client.cwd(config.directory)
            client.quit()
        except (ftplib.Error, OSError, EOFError) as exc:
            return CheckResult(ok=False, message=_classify(exc, config.host).message)
        return CheckResult(ok=True, message=f"logged in to {config.host} and opened {config.directory}")


class FtpsTransport(FtpTransport):
    name = "ftps"
    title = "FTPS (FTP over explicit TLS)"
    Config = FtpsConfig

    def connect(self, config: FtpsConfig) -> ftplib.FTP:
        context = ssl.create_default_context(cafile=config.ca_file or None)
        if not config.verify_tls:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        client = ftplib.FTP_TLS(timeout=config.timeout_seconds, context=context)
        client.connect(config.host, config.port)
        client.auth()
        client.login(config.username, config.password)
        client.prot_p()  # encrypt the file too, not only the password
        client.set_pasv(config.passive)
        return client
