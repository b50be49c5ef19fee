"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, for tests of email sending."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage


class Inbox:
    """What the server received; ``port`` is where it listens."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.port = 0

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


@contextmanager
def smtp_inbox() -> Iterator[Inbox]:
    from aiosmtpd.controller import Controller  # a test dependency only

    with socket.socket() as sock:  # aiosmtpd cannot listen on port 0: pick a free one first
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    inbox = Inbox()
    inbox.port = port
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()
