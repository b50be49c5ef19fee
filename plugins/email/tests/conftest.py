"""Real SMTP servers on loopback (aiosmtpd): plain, STARTTLS with AUTH, and implicit TLS."""

from __future__ import annotations

import email
import email.policy
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from hub.testing.tls import self_signed_certificate

USER, PASSWORD = "hub", "s3cret-pass"


@dataclass
class Mailbox:
    """Stores what arrives; ``refuse`` maps a recipient to the reply it gets (e.g. "550 5.1.1 no such user")."""

    messages: list[tuple[list[str], EmailMessage]] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), parsed))
        return "250 2.0.0 Ok: queued as TEST1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def check_password(server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
    ok = auth_data.login == USER.encode() and auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)


@dataclass
class Server:
    port: int
    mailbox: Mailbox
    ca_file: str = ""


@pytest.fixture(scope="session")
def certificate(tmp_path_factory) -> tuple[Path, Path]:  # type: ignore[no-untyped-def]
    """A self-signed certificate for 127.0.0.1; clients trust it through its CA file setting."""
    return self_signed_certificate(tmp_path_factory.mktemp("tls"))


def _server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*map(str, certificate))
    return context


def _run(controller: Controller, server: Server) -> Iterator[Server]:
    controller.start()
    try:
        yield server
    finally:
        controller.stop()


@pytest.fixture
def smtp_server() -> Iterator[Server]:
    mailbox, port = Mailbox(), free_port()
    yield from _run(Controller(mailbox, hostname="127.0.0.1", port=port), Server(port, mailbox))


@pytest.fixture
def starttls_server(certificate) -> Iterator[Server]:  # type: ignore[no-untyped-def]
    mailbox, port = Mailbox(), free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, tls_context=_server_context(certificate),
                            require_starttls=True, authenticator=check_password, auth_required=True,
                            auth_require_tls=True)
    yield from _run(controller, Server(port, mailbox, str(certificate[0])))


@pytest.fixture
def smtps_server(certificate) -> Iterator[Server]:  # type: ignore[no-untyped-def]
    mailbox, port = Mailbox(), free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, ssl_context=_server_context(certificate),
                            server_hostname="127.0.0.1", authenticator=check_password, auth_required=True,
                            # The whole connection is TLS; aiosmtpd only counts STARTTLS as "TLS" for AUTH.
                            auth_require_tls=False)
    yield from _run(controller, Server(port, mailbox, str(certificate[0])))
