"""Real servers on loopback: pyftpdlib for FTP and FTPS, asyncssh for SFTP (password and key)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncssh
import pytest
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler, TLS_FTPHandler
from pyftpdlib.servers import ThreadedFTPServer

from hub.testing.tls import self_signed_certificate

USER, PASSWORD = "leads", "ftp-pa55"


@dataclass
class Served:
    port: int
    root: Path
    ca_file: str = ""
    fingerprint: str = ""
    client_key: str = ""


@pytest.fixture(scope="session")
def certificate(tmp_path_factory) -> tuple[Path, Path]:  # type: ignore[no-untyped-def]
    """A self-signed certificate for 127.0.0.1; clients trust it through its CA file setting."""
    return self_signed_certificate(tmp_path_factory.mktemp("tls"))


def _serve_ftp(handler_class: type[FTPHandler], root: Path) -> Iterator[int]:
    authorizer = DummyAuthorizer()
    authorizer.add_user(USER, PASSWORD, str(root), perm="elradfmw")
    handler_class.authorizer = authorizer
    handler_class.auth_failed_timeout = 0  # pyftpdlib delays a wrong-password answer by 3 s by default
    server = ThreadedFTPServer(("127.0.0.1", 0), handler_class)
    thread = threading.Thread(target=server.serve_forever, kwargs={"timeout": 0.1}, daemon=True)
    thread.start()
    try:
        yield server.socket.getsockname()[1]
    finally:
        server.close_all()
        thread.join(timeout=5)


@pytest.fixture
def ftp_server(tmp_path) -> Iterator[Served]:  # type: ignore[no-untyped-def]
    root = tmp_path / "ftp"
    (root / "incoming").mkdir(parents=True)
    handler = type("Handler", (FTPHandler,), {})
    for port in _serve_ftp(handler, root):
        yield Served(port, root)


@pytest.fixture
def ftps_server(tmp_path, certificate) -> Iterator[Served]:  # type: ignore[no-untyped-def]
    root = tmp_path / "ftps"
    (root / "incoming").mkdir(parents=True)
    handler = type("TlsHandler", (TLS_FTPHandler,), {"certfile": str(certificate[0]), "keyfile": str(certificate[1]),
                                                    "tls_control_required": True, "tls_data_required": True})
    for port in _serve_ftp(handler, root):
        yield Served(port, root, ca_file=str(certificate[0]))


class _SshServer(asyncssh.SSHServer):
    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        return username == USER and password == PASSWORD


@pytest.fixture
def sftp_server(tmp_path) -> Iterator[Served]:  # type: ignore[no-untyped-def]
    root = tmp_path / "sftp"
    (root / "incoming").mkdir(parents=True)
    host_key = asyncssh.generate_private_key("ssh-ed25519")
    client_key = asyncssh.generate_private_key("ssh-ed25519")
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    async def start():  # type: ignore[no-untyped-def]
        return await asyncssh.listen(
            "127.0.0.1", 0, server_host_keys=[host_key], server_factory=_SshServer,
            authorized_client_keys=asyncssh.import_authorized_keys(client_key.export_public_key().decode()),
            sftp_factory=lambda channel: asyncssh.SFTPServer(channel, chroot=str(root).encode()))

    server = asyncio.run_coroutine_threadsafe(start(), loop).result(timeout=10)
    port = server.sockets[0].getsockname()[1]
    try:
        yield Served(port, root, fingerprint=host_key.get_fingerprint("sha256"),
                     client_key=client_key.export_private_key("openssh").decode())
    finally:
        async def stop() -> None:  # asyncio is not thread-safe: close inside the server's own loop
            server.close()
            await server.wait_closed()

        asyncio.run_coroutine_threadsafe(stop(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
