"""Talking SMTP, step by step, so every reply can be kept and classified: 4xx retry, 5xx reject."""

from __future__ import annotations

import email.policy
import smtplib
import socket
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage

from leadhub_email.smtp_settings import SmtpSettings


@dataclass
class SendResult:
    ok: bool
    transient: bool = False
    message: str = ""
    reply: str = ""  # the server's last reply, e.g. "250 2.0.0 Ok: queued"
    refused: dict[str, str] = field(default_factory=dict)  # recipients the server would not take


def _reply(code: int, text: bytes | str) -> str:
    return f"{code} {text.decode(errors='replace') if isinstance(text, bytes) else text}".strip()


def _tls_context(settings: SmtpSettings) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=settings.ca_file or None)
    if not settings.verify_tls:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def connect(settings: SmtpSettings) -> smtplib.SMTP:
    """An open, greeted (and when configured encrypted and logged-in) connection."""
    if settings.security == "tls":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout,
                                              context=_tls_context(settings))
    else:
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    try:
        smtp.ehlo()
        if settings.security == "starttls":
            smtp.starttls(context=_tls_context(settings))
            smtp.ehlo()
        if settings.username:
            smtp.login(settings.username, settings.password)
    except BaseException:
        smtp.close()
        raise
    return smtp


def send(settings: SmtpSettings, message: EmailMessage, recipients: list[str]) -> SendResult:
    try:
        smtp = connect(settings)
    except smtplib.SMTPAuthenticationError as exc:
        return SendResult(False, False, "the SMTP server refused the username or password", _reply(exc.smtp_code, exc.smtp_error))
    except smtplib.SMTPResponseException as exc:
        return SendResult(False, exc.smtp_code < 500, "the SMTP server refused the connection",
                          _reply(exc.smtp_code, exc.smtp_error))
    except smtplib.SMTPNotSupportedError as exc:
        return SendResult(False, False, f"the SMTP server does not support it: {exc}")
    except ssl.SSLError as exc:
        return SendResult(False, True, f"TLS with {settings.host} failed: {exc.reason or exc}")
    except (OSError, smtplib.SMTPException) as exc:
        kind = "timed out" if isinstance(exc, socket.timeout) else f"failed: {exc}"
        return SendResult(False, True, f"connecting to {settings.host}:{settings.port} {kind}")
    try:
        return _transaction(smtp, settings, message, recipients)
    except (OSError, smtplib.SMTPServerDisconnected) as exc:
        return SendResult(False, True, f"the SMTP connection broke: {exc}")
    finally:
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()


def _transaction(smtp: smtplib.SMTP, settings: SmtpSettings, message: EmailMessage,
                 recipients: list[str]) -> SendResult:
    code, text = smtp.mail(settings.from_address)
    if code != 250:
        return SendResult(False, code < 500, "the SMTP server refused the sender", _reply(code, text))
    refused: dict[str, str] = {}
    for address in recipients:
        code, text = smtp.rcpt(address)
        if code not in (250, 251):
            refused[address] = _reply(code, text)
    if len(refused) == len(recipients):
        transient = any(reply.startswith("4") for reply in refused.values())
        first = next(iter(refused.values()))
        return SendResult(False, transient, "the SMTP server refused every recipient", first, refused)
    code, text = smtp.data(message.as_bytes(policy=email.policy.SMTP))
    if code != 250:
        return SendResult(False, code < 500, "the SMTP server refused the message", _reply(code, text), refused)
    return SendResult(True, reply=_reply(code, text), refused=refused)
