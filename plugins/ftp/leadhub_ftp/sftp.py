"""SFTP with paramiko: a pinned host key (or trust on first use), password or private key."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import socket
import threading
from pathlib import Path
from typing import Annotated

import msgspec
import paramiko

from hub.plugins.contract import (
    CheckResult,
    ExportContext,
    ExportTransport,
    Outcome,
    Secret,
    TransportResult,
)
from leadhub_ftp.paths import remote_paths

KEY_TYPES = (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey)


class SftpConfig(msgspec.Struct, forbid_unknown_fields=True):
    """Upload export files to an SFTP server."""

    host: str
    username: str
    password: Annotated[str, Secret] = ""
    private_key: Annotated[str, Secret, msgspec.Meta(description="An OpenSSH/PEM private key (instead of a password)",
                                                     extra_json_schema={"x-widget": "textarea"})] = ""
    private_key_passphrase: Annotated[str, Secret] = ""
    port: Annotated[int, msgspec.Meta(ge=1, le=65535)] = 22
    directory: str = "/"
    host_key_fingerprint: Annotated[str, msgspec.Meta(
        description="The server's key, e.g. SHA256:abc... (ssh-keygen -lf); unknown keys are refused")] = ""
    trust_on_first_use: Annotated[bool, msgspec.Meta(
        description="With no fingerprint: remember the first key seen, refuse any other later")] = False
    timeout_seconds: Annotated[float, msgspec.Meta(gt=0, le=300)] = 30.0

    def __post_init__(self) -> None:
        if not self.password and not self.private_key:
            raise ValueError("set a password or a private_key")


class HostKeyRefused(Exception):
    pass


def fingerprint(key: paramiko.PKey) -> str:
    """OpenSSH's SHA256 fingerprint of a host key."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(key.asbytes()).digest()).decode().rstrip("=")


class KnownHosts:
    """Keys trusted on first use, one JSON file in the transport's state folder."""

    _lock = threading.Lock()

    def __init__(self, folder: Path | None) -> None:
        self.path = folder / "sftp_known_hosts.json" if folder else None

    def check(self, address: str, seen: str) -> None:
        if self.path is None:
            raise HostKeyRefused("trust on first use needs somewhere to remember the key; pin the fingerprint")
        with self._lock:
            known = json.loads(self.path.read_text()) if self.path.exists() else {}
            if address not in known:
                known[address] = seen
                self.path.write_text(json.dumps(known, indent=1))
                return
        if known[address] != seen:
            raise HostKeyRefused(f"the host key of {address} CHANGED (was {known[address]}, now {seen}); "
                                 "if the server was really re-keyed, pin the new fingerprint")


def load_private_key(text: str, passphrase: str) -> paramiko.PKey:
    for kind in KEY_TYPES:
        try:
            return kind.from_private_key(io.StringIO(text), password=passphrase or None)
        except (paramiko.SSHException, ValueError):
            continue
    raise paramiko.AuthenticationException("the private key cannot be read (wrong format or passphrase)")


class SftpTransport(ExportTransport):
    name = "sftp"
    title = "SFTP"
    Config = SftpConfig

    def open(self, config: SftpConfig, known_hosts: KnownHosts | None) -> tuple[paramiko.Transport, paramiko.SFTPClient]:
        """Connect, verify the host key, log in. With no ``known_hosts`` (a check), first use is not recorded."""
        sock = socket.create_connection((config.host, config.port), timeout=config.timeout_seconds)
        transport = paramiko.Transport(sock)
        try:
            transport.banner_timeout = transport.auth_timeout = config.timeout_seconds
            transport.start_client(timeout=config.timeout_seconds)
            seen = fingerprint(transport.get_remote_server_key())
            address = f"{config.host}:{config.port}"
            if config.host_key_fingerprint:
                if seen != config.host_key_fingerprint.strip():
                    raise HostKeyRefused(f"the host key of {address} is {seen}, not the pinned "
                                         f"{config.host_key_fingerprint}")
            elif config.trust_on_first_use:
                if known_hosts is not None:
                    known_hosts.check(address, seen)
            else:
                raise HostKeyRefused(f"{address} is not trusted yet: its key is {seen}; pin it in "
                                     "host_key_fingerprint (or allow trust on first use)")
            if config.private_key:
                transport.auth_publickey(config.username, load_private_key(config.private_key,
                                                                           config.private_key_passphrase))
            else:
                transport.auth_password(config.username, config.password)
            sftp = paramiko.SFTPClient.from_transport(transport)
            sftp.get_channel().settimeout(config.timeout_seconds)
            return transport, sftp
        except BaseException:
            transport.close()
            raise

    def send(self, ctx: ExportContext) -> TransportResult:
        config: SftpConfig = ctx.config
        temporary, final = remote_paths(config.directory, ctx.filename, ctx.run_id)
        try:
            transport, sftp = self.open(config, KnownHosts(ctx.state_dir))
        except (HostKeyRefused, paramiko.AuthenticationException) as exc:
            return TransportResult(outcome=Outcome.REJECTED, message=str(exc) or "login refused")
        except (OSError, paramiko.SSHException, EOFError) as exc:
            return TransportResult(outcome=Outcome.FAILED, message=f"SFTP to {config.host} failed: {exc}")
        try:
            sftp.put(str(ctx.path), temporary, confirm=True)
            try:
                sftp.posix_rename(temporary, final)  # atomic replace where the server supports it
            except (OSError, paramiko.SSHException):
                try:
                    sftp.remove(final)
                except OSError:
                    pass
                sftp.rename(temporary, final)
        except PermissionError as exc:
            return TransportResult(outcome=Outcome.REJECTED, message=f"no permission on {config.host}: {exc}")
        except FileNotFoundError:
            return TransportResult(outcome=Outcome.REJECTED,
                                   message=f"the folder {config.directory} does not exist on {config.host}")
        except (OSError, paramiko.SSHException, EOFError) as exc:
            return TransportResult(outcome=Outcome.FAILED, message=f"SFTP upload to {config.host} failed: {exc}")
        finally:
            sftp.close()
            transport.close()
        return TransportResult(outcome=Outcome.ACCEPTED, location=f"sftp://{config.host}{final}")

    def check(self, config: SftpConfig) -> CheckResult:
        try:
            transport, sftp = self.open(config, None)
            sftp.listdir(config.directory)
            sftp.close()
            transport.close()
        except Exception as exc:  # noqa: BLE001 - the answer to "does it work?"
            return CheckResult(ok=False, message=f"{type(exc).__name__}: {exc}")
        return CheckResult(ok=True, message=f"logged in to {config.host} and listed {config.directory}")
