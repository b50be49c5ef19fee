"""Building the email itself (pure): addresses checked, UTF-8 everywhere, a Message-ID per send."""

from __future__ import annotations

import mimetypes
from collections.abc import Callable, Sequence
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from email_validator import EmailNotValidError, validate_email

from leadhub_email.smtp_settings import SmtpSettings


class AddressError(ValueError):
    """A recipient that is not an email address once rendered."""


def render_addresses(templates: Sequence[str], render: Callable[[str], str], role: str) -> list[str]:
    """Render each address template (``{{ email }}`` allowed); blanks are dropped, bad ones refused."""
    out = []
    for template in templates:
        for candidate in render(template).replace(";", ",").split(","):
            candidate = candidate.strip()
            if not candidate:
                continue
            try:
                out.append(validate_email(candidate, check_deliverability=False).normalized)
            except EmailNotValidError as exc:
                raise AddressError(f"{role} address {candidate!r} is not valid: {exc}") from None
    return out


def _address(email: str, name: str = "") -> Address:
    local, _, domain = email.rpartition("@")
    return Address(display_name=name, username=local, domain=domain)


def build_message(settings: SmtpSettings, *, to: list[str], cc: list[str], subject: str, text: str,
                  html: str = "", headers: dict[str, str] | None = None,
                  attachment: Path | None = None, attachment_name: str = "") -> EmailMessage:
    message = EmailMessage()
    message["From"] = _address(settings.from_address, settings.from_name)
    message["To"] = [_address(a) for a in to]
    if cc:
        message["Cc"] = [_address(a) for a in cc]
    if settings.reply_to:
        message["Reply-To"] = settings.reply_to
    message["Subject"] = " ".join(subject.split())  # a header cannot hold newlines
    message["Message-ID"] = make_msgid(domain=settings.from_address.rpartition("@")[2] or None)
    for name, value in (headers or {}).items():
        message[name] = value
    # Quoted-printable keeps UTF-8 text safe on servers without 8BITMIME, and readable.
    message.set_content(text, charset="utf-8", cte="quoted-printable")
    if html:
        message.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    if attachment is not None:
        kind = mimetypes.guess_type(attachment_name or attachment.name)[0] or "application/octet-stream"
        maintype, _, subtype = kind.partition("/")
        message.add_attachment(attachment.read_bytes(), maintype=maintype, subtype=subtype,
                               filename=attachment_name or attachment.name)
    return message
