"""The tables. The database, not the broker, is the record of every lead and dispatch."""

from __future__ import annotations

import enum
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlalchemy.ext.mutable import MutableDict, MutableList
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    """Aware UTC; SQLModel's UTCDateTime columns store UTC and give it back aware on every database."""
    return datetime.now(timezone.utc)


def _json_dict() -> Any:
    return Field(default_factory=dict, sa_column=Column(MutableDict.as_mutable(JSON), nullable=False))


def _json_list() -> Any:
    return Field(default_factory=list, sa_column=Column(MutableList.as_mutable(JSON), nullable=False))


class DispatchStatus(str, enum.Enum):
    PENDING = "pending"  # waiting for its first (or next) try
    ACCEPTED = "accepted"
    REJECTED = "rejected"  # final
    FAILED = "failed"  # the last try failed; another is due at next_attempt_at
    DEAD = "dead"  # failed max_attempts times
    SKIPPED = "skipped"  # the delivery's filter did not match

    @property
    def is_final(self) -> bool:
        return self in (DispatchStatus.ACCEPTED, DispatchStatus.REJECTED, DispatchStatus.DEAD, DispatchStatus.SKIPPED)


RETRYABLE = (DispatchStatus.PENDING.value, DispatchStatus.FAILED.value)


class Source(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(unique=True, index=True, max_length=100)
    name: str = ""
    api_key: str = ""  # encrypted ("enc:...") or a reference ("env:NAME")
    fields: list[dict[str, Any]] = _json_list()
    dedupe_on: list[str] = _json_list()
    dedupe_window_hours: float = 24.0
    idempotency_field: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Buyer(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(unique=True, index=True, max_length=100)
    name: str = ""
    contact_email: str = ""
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Delivery(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(unique=True, index=True, max_length=100)
    name: str = ""
    buyer_id: int | None = Field(default=None, foreign_key="buyer.id", index=True)
    channel: str
    config: dict[str, Any] = _json_dict()  # secret leaves encrypted
    mapping: list[dict[str, Any]] = _json_list()
    filter: str = ""
    max_attempts: int = 6
    enabled: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class DeliverySource(SQLModel, table=True):
    __tablename__ = "delivery_source"
    delivery_id: int = Field(foreign_key="delivery.id", primary_key=True, ondelete="CASCADE")
    source_id: int = Field(foreign_key="source.id", primary_key=True, ondelete="CASCADE", index=True)


class Export(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(unique=True, index=True, max_length=100)
    name: str = ""
    buyer_id: int | None = Field(default=None, foreign_key="buyer.id", index=True)
    schedule: str = ""
    timezone: str = "UTC"
    format: str = "csv"
    zip_password: str = ""  # encrypted or an env: reference; empty = plain file
    filename: str = ""  # a template: {{ date }}, {{ buyer }}, {{ export }}
    delimiter: str = ","
    header: bool = True
    retention_days: int = 30  # files older than this are deleted from the data dir
    link_ttl_hours: int = 168  # how long a download link works
    max_attempts: int = 5  # transport tries per run before it is failed
    transport: str
    config: dict[str, Any] = _json_dict()
    mapping: list[dict[str, Any]] = _json_list()
    filter: str = ""
    enabled: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class ExportSource(SQLModel, table=True):
    __tablename__ = "export_source"
    export_id: int = Field(foreign_key="export.id", primary_key=True, ondelete="CASCADE")
    source_id: int = Field(foreign_key="source.id", primary_key=True, ondelete="CASCADE", index=True)


class Lead(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("source_id", "idempotency_key", name="uq_lead_idempotency"),
        Index("ix_lead_dedupe", "source_id", "dedupe_key", "received_at"),
        Index("ix_lead_source_received", "source_id", "received_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    source_id: int = Field(foreign_key="source.id")
    received_at: datetime = Field(default_factory=utcnow, index=True)
    status: str = "accepted"  # accepted | duplicate
    duplicate_of: int | None = None
    dedupe_key: str | None = None
    idempotency_key: str | None = Field(default=None, max_length=255)
    fields: dict[str, Any] = _json_dict()


class Dispatch(SQLModel, table=True):
    """One lead's trip through one delivery: the outbox row."""

    __table_args__ = (
        UniqueConstraint("lead_id", "delivery_id", name="uq_dispatch_lead_delivery"),
        Index("ix_dispatch_due", "status", "next_attempt_at"),
        Index("ix_dispatch_delivery_status", "delivery_id", "status"),
    )
    id: int | None = Field(default=None, primary_key=True)
    lead_id: int = Field(foreign_key="lead.id", index=True)
    delivery_id: int = Field(foreign_key="delivery.id")
    status: str = DispatchStatus.PENDING.value
    attempts: int = 0  # every try ever made
    round_attempts: int = 0  # tries since the last replay, counted against max_attempts
    next_attempt_at: datetime | None = Field(default_factory=utcnow)
    leased_until: datetime | None = None
    remote_id: str | None = None
    last_error: str = ""
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Attempt(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    dispatch_id: int = Field(foreign_key="dispatch.id", index=True)
    number: int
    started_at: datetime = Field(default_factory=utcnow)
    duration_ms: float = 0.0
    outcome: str
    message: str = ""
    remote_id: str | None = None
    request: dict[str, Any] = _json_dict()
    response: dict[str, Any] = _json_dict()
    details: dict[str, Any] = _json_dict()


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_token"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    token_hash: str = Field(unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class ExportRun(SQLModel, table=True):
    """One firing of an export: its window, its file and how the hand-over went."""

    __tablename__ = "export_run"
    __table_args__ = (Index("ix_export_run_due", "status", "next_attempt_at"),)
    id: int | None = Field(default=None, primary_key=True)
    export_id: int = Field(foreign_key="export.id", index=True)
    # Unique per scheduled firing, so however many schedulers race, one inserts the run.
    run_key: str = Field(unique=True, max_length=200)
    kind: str = "scheduled"  # scheduled | manual | rerun
    rerun_of: int | None = None
    fire_time: datetime | None = None
    window_start: datetime
    window_end: datetime
    status: str = "pending"  # pending | running | retrying | succeeded | failed
    attempts: int = 0
    next_attempt_at: datetime | None = None  # None: due now; set when a failed try is to be retried
    leased_until: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    duration_ms: float | None = None
    row_count: int | None = None
    byte_size: int | None = None
    sha256: str | None = None
    file_path: str | None = None
    filename: str | None = None
    location: str | None = None
    message: str = ""
    created_at: datetime = Field(default_factory=utcnow)


class BuyerAccount(SQLModel, table=True):
    """A buyer's login, used only to download its own export files."""

    __tablename__ = "buyer_account"
    id: int | None = Field(default=None, primary_key=True)
    buyer_id: int = Field(foreign_key="buyer.id", index=True)
    email: str = Field(unique=True, max_length=320)
    password_hash: str = ""  # argon2; empty until the invite is accepted
    invite_token_hash: str | None = Field(default=None, index=True)
    invite_expires_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    last_login_at: datetime | None = None


class AdminUser(SQLModel, table=True):
    """Someone who configures the hub in the browser."""

    __tablename__ = "admin_user"
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(unique=True, max_length=320)
    password_hash: str
    created_at: datetime = Field(default_factory=utcnow)
    last_login_at: datetime | None = None
