"""What a channel or export transport is: the types a plugin author implements and receives.

A channel delivers one lead in real time; a transport hands one export file to a
buyer. Both are plain classes with a stable ``name``, a human ``title`` and a
``Config`` (a ``msgspec.Struct`` whose JSON Schema drives the settings form).
Mark a secret field with :data:`Secret` so the hub encrypts it at rest and masks
it everywhere::

    class Config(msgspec.Struct, forbid_unknown_fields=True):
        url: str
        token: Annotated[str, Secret] = ""
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar

import httpx
import msgspec

#: Put inside ``Annotated[...]`` on a Config field to make it a secret.
Secret = msgspec.Meta(extra_json_schema={"writeOnly": True, "format": "password"})


class Outcome(str, enum.Enum):
    """How one attempt ended."""

    ACCEPTED = "accepted"  # the buyer took it
    REJECTED = "rejected"  # the buyer declined it: final, never retried
    FAILED = "failed"  # transient: retried with backoff until max_attempts


class Exchange(msgspec.Struct, omit_defaults=True):
    """An excerpt of one request or response, kept on the attempt (secrets masked by the hub)."""

    summary: str = ""  # e.g. "POST https://buyer/api" or "250 OK"
    status: int | None = None
    headers: dict[str, str] = {}
    body: str = ""


class DeliveryResult(msgspec.Struct, omit_defaults=True):
    """What a channel's ``deliver`` returns."""

    outcome: Outcome
    message: str = ""  # the reason shown to the admin (reject reason, error)
    remote_id: str | None = None  # the buyer's id for the lead
    retry_after: float | None = None  # seconds the buyer asked us to wait (429 Retry-After)
    request: Exchange | None = None
    response: Exchange | None = None
    details: dict[str, Any] = {}  # anything else worth showing with the lead (e.g. links)
    # Secrets the channel obtained while delivering (an access token from a token call): the hub
    # masks them, like the configured secrets, in everything it stores or logs about this attempt.
    secrets: list[str] = []

    @property
    def is_accepted(self) -> bool:
        return self.outcome == Outcome.ACCEPTED

    @property
    def is_rejected(self) -> bool:
        return self.outcome == Outcome.REJECTED

    @property
    def is_failed(self) -> bool:
        return self.outcome == Outcome.FAILED

    @classmethod
    def accepted(cls, **kw: Any) -> DeliveryResult:
        return cls(outcome=Outcome.ACCEPTED, **kw)

    @classmethod
    def rejected(cls, message: str, **kw: Any) -> DeliveryResult:
        return cls(outcome=Outcome.REJECTED, message=message, **kw)

    @classmethod
    def failed(cls, message: str, **kw: Any) -> DeliveryResult:
        return cls(outcome=Outcome.FAILED, message=message, **kw)


class CheckResult(msgspec.Struct):
    """The answer of a connection test (``check``)."""

    ok: bool
    message: str = ""


class DeliveryContext(msgspec.Struct, kw_only=True):
    """Everything a channel needs to deliver one dispatch.

    ``payload`` is the lead after the delivery's field mapping; ``lead`` holds
    the validated lead fields as received. ``render`` renders a template in
    Jinja's sandbox with ``lead`` and ``payload`` merged (payload wins), a
    missing field rendering empty. ``http`` is the worker's shared, pooled
    client: use it rather than creating one per request.
    """

    config: Any  # an instance of the channel's Config, secrets resolved; shared by tries, so read-only
    payload: dict[str, Any]
    lead: dict[str, Any]
    lead_id: int
    source: str
    dispatch_id: int
    attempt: int  # 1 for the first try
    idempotency_key: str  # stable for the dispatch across retries
    http: httpx.Client
    render: Callable[[str], str]


class ExportContext(msgspec.Struct, kw_only=True):
    """Everything a transport needs to hand one export file to a buyer."""

    config: Any  # an instance of the transport's Config, secrets resolved
    path: Path  # the finished file on local disk
    filename: str  # the name the buyer should see
    buyer: Mapping[str, Any]  # slug, name, contact_email
    export: str  # the export's slug
    run_id: int
    row_count: int
    download_url: str | None = None  # a login-protected link to the file, when the hub serves it
    render: Callable[[str], str]
    state_dir: Path | None = None  # a folder the transport may keep state in (e.g. trusted host keys)


class TransportResult(msgspec.Struct, omit_defaults=True):
    """What a transport's ``send`` returns; ``FAILED`` is retried, ``REJECTED`` is not."""

    outcome: Outcome
    message: str = ""
    location: str | None = None  # where the file went, e.g. "sftp://host/incoming/x.zip"


class Channel:
    """Base class of a real-time delivery channel. Subclass it and fill in the class attributes."""

    name: ClassVar[str]  # stable identifier stored with each delivery, e.g. "http_post"
    title: ClassVar[str]  # shown to admins, e.g. "HTTP POST to any API"
    #: A msgspec.Struct, or a tagged union of Structs for settings that differ by kind (e.g. SMS providers).
    Config: ClassVar[Any]
    #: The mapping targets the channel accepts, or None for any (checked when a delivery is saved).
    allowed_targets: ClassVar[tuple[str, ...] | None] = None

    def check(self, config: Any, http: httpx.Client) -> CheckResult | None:
        """Test the connection without delivering a lead; None when the channel cannot test."""
        return None

    def validate_delivery(self, config: Any, targets: list[str]) -> dict[str, str]:
        """Check a delivery when it is saved: ``{"setting or mapping.target": "what is wrong"}``.

        ``targets`` are the delivery's mapping targets. The default refuses
        targets outside ``allowed_targets``; override to add channel rules
        (e.g. an SMS template's worst-case length), calling ``super()``.
        """
        if self.allowed_targets is None:
            return {}
        allowed = ", ".join(self.allowed_targets)
        return {
            f"mapping.{t}": f"'{t}' is not a field of {self.title}; allowed targets: {allowed}"
            for t in targets
            if t not in self.allowed_targets
        }

    def preview_notes(self, settings: dict[str, Any], render: Callable[[str], str]) -> list[str]:
        """Short notes shown under the admin's live preview, e.g. an SMS's segment count.

        ``settings`` are the form's settings as typed so far (not yet validated);
        ``render`` renders a template for the previewed lead. Default: none.
        """
        return []

    def deliver(self, ctx: DeliveryContext) -> DeliveryResult:
        """Deliver one mapped lead. Raise nothing for buyer errors: return an outcome."""
        raise NotImplementedError


class ExportTransport:
    """Base class of an export transport (email, FTP, SFTP, ...)."""

    name: ClassVar[str]
    title: ClassVar[str]
    Config: ClassVar[type[msgspec.Struct]]

    def check(self, config: Any) -> CheckResult | None:
        return None

    def send(self, ctx: ExportContext) -> TransportResult:
        raise NotImplementedError
