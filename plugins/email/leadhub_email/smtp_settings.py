"""Where and how to send: the hub-wide HUB_SMTP_URL, overridden per delivery (pure)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Annotated, Literal
from urllib.parse import parse_qs, unquote, urlsplit

import msgspec

from hub.plugins.contract import Secret

Security = Literal["none", "starttls", "tls"]
DEFAULT_PORTS = {"none": 25, "starttls": 587, "tls": 465}


class SmtpOverrides(msgspec.Struct, forbid_unknown_fields=True):
    """SMTP settings; anything left empty comes from the hub's HUB_SMTP_URL."""

    smtp_host: str = ""
    smtp_port: Annotated[int, msgspec.Meta(ge=0, le=65535)] = 0
    smtp_security: Security | Literal[""] = ""
    smtp_username: str = ""
    smtp_password: Annotated[str, Secret] = ""
    smtp_verify_tls: bool = True
    smtp_ca_file: Annotated[str, msgspec.Meta(description="A CA bundle for a private certificate")] = ""
    from_address: str = ""
    from_name: str = ""
    reply_to: str = ""
    timeout_seconds: Annotated[float, msgspec.Meta(gt=0, le=120)] = 20.0


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: Security
    username: str
    password: str
    from_address: str
    from_name: str
    reply_to: str
    timeout: float
    verify_tls: bool
    ca_file: str


class SmtpSettingsError(ValueError):
    """Settings that cannot work, naming the one to fix."""


def parse_smtp_url(url: str) -> dict[str, str]:
    """``smtp://user:pass@host:587?security=starttls&from=a@b.c&from_name=Leads`` → settings (``smtps://`` = tls)."""
    if not url:
        return {}
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise SmtpSettingsError(f"HUB_SMTP_URL must start with smtp:// or smtps://, not {parts.scheme}://")
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    security = query.get("security", "tls" if parts.scheme == "smtps" else "starttls" if parts.username else "none")
    if security not in DEFAULT_PORTS:
        raise SmtpSettingsError(f"HUB_SMTP_URL security must be none, starttls or tls, not {security!r}")
    return {
        "host": parts.hostname or "", "port": str(parts.port or ""), "security": security,
        "username": unquote(parts.username or ""), "password": unquote(parts.password or ""),
        "from_address": query.get("from", ""), "from_name": query.get("from_name", ""),
    }


def resolve_settings(config: SmtpOverrides, environ: dict[str, str] | None = None) -> SmtpSettings:
    environ = dict(os.environ if environ is None else environ)
    base = parse_smtp_url(environ.get("HUB_SMTP_URL", ""))
    if config.smtp_host and config.smtp_host != base.get("host"):
        # Another server: never hand it the hub's credentials; keep only the sender defaults.
        base = {k: v for k, v in base.items() if k in ("from_address", "from_name")}
    host = config.smtp_host or base.get("host", "")
    if not host:
        raise SmtpSettingsError("no SMTP server: set smtp_host on the delivery or HUB_SMTP_URL for the hub")
    security: Security = config.smtp_security or base.get("security") or "none"  # type: ignore[assignment]
    from_address = config.from_address or base.get("from_address", "")
    if not from_address:
        raise SmtpSettingsError("no sender: set from_address on the delivery or ?from= in HUB_SMTP_URL")
    return SmtpSettings(
        host=host,
        port=config.smtp_port or int(base.get("port") or 0) or DEFAULT_PORTS[security],
        security=security,
        username=config.smtp_username or base.get("username", ""),
        password=config.smtp_password or base.get("password", ""),
        from_address=from_address,
        from_name=config.from_name or base.get("from_name", ""),
        reply_to=config.reply_to,
        timeout=config.timeout_seconds,
        verify_tls=config.smtp_verify_tls,
        ca_file=config.smtp_ca_file,
    )
