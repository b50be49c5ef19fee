"""The email channel: a personalised message per lead, through the hub's or the delivery's SMTP server."""

from __future__ import annotations

from typing import Annotated, Any

import httpx
import msgspec

from hub.mapping.templates import TemplateError
from hub.plugins.contract import (
    Channel,
    CheckResult,
    DeliveryContext,
    DeliveryResult,
    Exchange,
)
from leadhub_email.message import AddressError, build_message, render_addresses
from leadhub_email.sending import connect, send
from leadhub_email.smtp_settings import (
    SmtpOverrides,
    SmtpSettingsError,
    resolve_settings,
)

Template = msgspec.Meta(extra_json_schema={"x-widget": "template"})


class EmailConfig(SmtpOverrides, forbid_unknown_fields=True):
    """Email each lead; subject, body and addresses may use {{ field }} merge fields."""

    to: Annotated[list[str], msgspec.Meta(min_length=1, description="Recipients; e.g. sales@acme.example")] = []
    subject: Annotated[str, Template] = "New lead"
    body: Annotated[str, Template, msgspec.Meta(extra_json_schema={"x-widget": "textarea"})] = ""
    html_body: Annotated[str, Template, msgspec.Meta(extra_json_schema={"x-widget": "textarea"})] = ""
    cc: list[str] = []
    bcc: list[str] = []


def check_smtp(config: SmtpOverrides) -> CheckResult:
    """Connect, greet, encrypt and log in as a send would, then hang up."""
    try:
        settings = resolve_settings(config)
        smtp = connect(settings)
    except SmtpSettingsError as exc:
        return CheckResult(ok=False, message=str(exc))
    except Exception as exc:  # noqa: BLE001 - any failure is the answer to "does it work?"
        return CheckResult(ok=False, message=f"{type(exc).__name__}: {exc}")
    smtp.quit()
    return CheckResult(ok=True, message=f"{settings.host}:{settings.port} accepted the connection")


class EmailChannel(Channel):
    name = "email"
    title = "Email"
    Config = EmailConfig

    def validate_delivery(self, config: EmailConfig, targets: list[str]) -> dict[str, str]:
        problems = super().validate_delivery(config, targets)
        if not config.to:
            problems["to"] = "add at least one recipient"
        if not config.body and not config.html_body:
            problems["body"] = "write a body (or an HTML body)"
        return problems

    def deliver(self, ctx: DeliveryContext) -> DeliveryResult:
        config: EmailConfig = ctx.config
        try:
            settings = resolve_settings(config)
        except SmtpSettingsError as exc:
            return DeliveryResult.failed(str(exc))
        try:
            to = render_addresses(config.to, ctx.render, "to")
            cc = render_addresses(config.cc, ctx.render, "cc")
            bcc = render_addresses(config.bcc, ctx.render, "bcc")
            subject, text, html = (ctx.render(config.subject), ctx.render(config.body), ctx.render(config.html_body))
        except (AddressError, TemplateError) as exc:
            return DeliveryResult.rejected(str(exc))
        if not to:
            return DeliveryResult.rejected("no recipient: every 'to' address rendered empty for this lead")
        message = build_message(settings, to=to, cc=cc, subject=subject, text=text, html=html,
                                headers={"X-Leadhub-Dispatch": ctx.idempotency_key})
        sent = Exchange(summary=f"SMTP {settings.host}:{settings.port} to {', '.join(to + cc + bcc)}",
                        headers={"Subject": str(message["Subject"]), "Message-ID": str(message["Message-ID"])},
                        body=text[:4096])
        result = send(settings, message, to + cc + bcc)
        reply = Exchange(summary=result.reply, body="\n".join(f"{a}: {r}" for a, r in result.refused.items()))
        details: dict[str, Any] = {"refused": result.refused} if result.refused else {}
        if result.ok:
            return DeliveryResult.accepted(remote_id=str(message["Message-ID"]), request=sent, response=reply,
                                           details=details)
        outcome = DeliveryResult.failed if result.transient else DeliveryResult.rejected
        text_reply = f": {result.reply}" if result.reply else ""
        return outcome(f"{result.message}{text_reply}", request=sent, response=reply, details=details)

    def check(self, config: EmailConfig, http: httpx.Client) -> CheckResult:
        return check_smtp(config)
