"""The email export transport: the file as an attachment, or a link to the hub's download page."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from hub.mapping.templates import TemplateError
from hub.plugins.contract import (
    CheckResult,
    ExportContext,
    ExportTransport,
    Outcome,
    TransportResult,
)
from leadhub_email.channel import Template, check_smtp
from leadhub_email.message import AddressError, build_message, render_addresses
from leadhub_email.sending import send
from leadhub_email.smtp_settings import (
    SmtpOverrides,
    SmtpSettingsError,
    resolve_settings,
)

DEFAULT_LINK_TEXT = "\n\nDownload it here (sign in with your buyer account): {{ download_url }}\n"


class EmailExportConfig(SmtpOverrides, forbid_unknown_fields=True):
    """Send each export file by email. Templates may use date, buyer, export, filename, row_count, download_url."""

    to: Annotated[list[str], msgspec.Meta(min_length=1)] = []
    subject: Annotated[str, Template] = "Your leads: {{ filename }}"
    body: Annotated[str, Template] = "Your file {{ filename }} has {{ row_count }} leads."
    attach: Annotated[Literal["attachment", "link"],
                      msgspec.Meta(description="Attach the file, or send a link to a login-protected download")] = \
        "attachment"
    cc: list[str] = []
    bcc: list[str] = []


class EmailTransport(ExportTransport):
    name = "email"
    title = "Email (attachment or download link)"
    Config = EmailExportConfig

    def send(self, ctx: ExportContext) -> TransportResult:
        config: EmailExportConfig = ctx.config
        try:
            settings = resolve_settings(config)
        except SmtpSettingsError as exc:
            return TransportResult(outcome=Outcome.FAILED, message=str(exc))
        if config.attach == "link" and not ctx.download_url:
            return TransportResult(outcome=Outcome.REJECTED, message="this hub serves no download links")
        try:
            to = render_addresses(config.to, ctx.render, "to")
            cc = render_addresses(config.cc, ctx.render, "cc")
            bcc = render_addresses(config.bcc, ctx.render, "bcc")
            body = ctx.render(config.body)
            if config.attach == "link" and "{{ download_url }}" not in config.body:
                body += ctx.render(DEFAULT_LINK_TEXT)
            subject = ctx.render(config.subject)
        except (AddressError, TemplateError) as exc:
            return TransportResult(outcome=Outcome.REJECTED, message=str(exc))
        if not to:
            return TransportResult(outcome=Outcome.REJECTED, message="no recipient")
        message = build_message(settings, to=to, cc=cc, subject=subject, text=body,
                                attachment=ctx.path if config.attach == "attachment" else None,
                                attachment_name=ctx.filename, headers={"X-Leadhub-Export-Run": str(ctx.run_id)})
        result = send(settings, message, to + cc + bcc)
        if result.ok:
            return TransportResult(outcome=Outcome.ACCEPTED, location=f"mailto:{','.join(to)}",
                                   message=f"{result.reply}; refused: {result.refused}" if result.refused else "")
        outcome = Outcome.FAILED if result.transient else Outcome.REJECTED
        return TransportResult(outcome=outcome, message=f"{result.message}: {result.reply}".rstrip(": "))

    def check(self, config: EmailExportConfig) -> CheckResult:
        return check_smtp(config)
