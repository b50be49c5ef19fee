"""Admin API tokens: shown once at creation, stored only as a SHA-256 hash, revocable."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from hub.models import ApiToken, utcnow

PREFIX = "lh_"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(engine: Engine, name: str) -> str:
    """Create a token named ``name`` and return its plain value (the only time it is known)."""
    if not name.strip():
        raise ValueError("a token needs a name")
    token = PREFIX + secrets.token_urlsafe(32)
    with Session(engine) as session:
        session.add(ApiToken(name=name.strip(), token_hash=_hash(token)))
        session.commit()
    return token


def verify_token(engine: Engine, token: str) -> ApiToken | None:
    """The live token with this value, or None (unknown or revoked)."""
    with Session(engine, expire_on_commit=False) as session:
        row = session.execute(
            select(ApiToken).where(ApiToken.token_hash == _hash(token), ApiToken.revoked_at.is_(None))
        ).scalar_one_or_none()
        if row is not None and (row.last_used_at is None or utcnow() - row.last_used_at > timedelta(minutes=1)):
            row.last_used_at = utcnow()  # at most once a minute, to keep API reads cheap
            session.commit()
        return row


def list_tokens(engine: Engine) -> list[ApiToken]:
    with Session(engine) as session:
        return list(session.execute(select(ApiToken).order_by(ApiToken.id)).scalars())


def revoke_token(engine: Engine, name_or_id: str) -> int:
    """Revoke live tokens by name or id; returns how many were revoked."""
    with Session(engine) as session:
        query = select(ApiToken).where(ApiToken.revoked_at.is_(None))
        query = query.where(ApiToken.id == int(name_or_id)) if name_or_id.isdigit() else query.where(
            ApiToken.name == name_or_id)
        rows = list(session.execute(query).scalars())
        for row in rows:
            row.revoked_at = utcnow()
        session.commit()
        return len(rows)
