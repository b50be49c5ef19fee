"""Buyer accounts: invited by an admin, password set through a one-time link, hashed with argon2."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from hub.accounts.passwords import hash_password, password_matches
from hub.models import Buyer, BuyerAccount, utcnow

INVITE_TTL = timedelta(days=7)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invite_buyer(engine: Engine, buyer_slug: str, email: str) -> str:
    """Create (or re-invite) a buyer login; returns the one-time token for the set-password link."""
    try:
        email = validate_email(email, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ValueError(f"email: {exc}") from None
    token = secrets.token_urlsafe(32)
    with Session(engine) as session:
        buyer = session.execute(select(Buyer).where(Buyer.slug == buyer_slug)).scalar_one_or_none()
        if buyer is None:
            raise LookupError(f"no buyer '{buyer_slug}'")
        account = session.execute(select(BuyerAccount).where(BuyerAccount.email == email)).scalar_one_or_none()
        if account is not None and account.buyer_id != buyer.id:
            raise ValueError(f"email: {email} already belongs to another buyer")
        account = account or BuyerAccount(buyer_id=buyer.id, email=email)
        account.invite_token_hash = _token_hash(token)
        account.invite_expires_at = utcnow() + INVITE_TTL
        session.add(account)
        session.commit()
    return token


def accept_invite(engine: Engine, token: str, password: str) -> BuyerAccount:
    """Set the password of the account the token was issued for; the token then stops working."""
    password_hash = hash_password(password)
    with Session(engine, expire_on_commit=False) as session:
        account = session.execute(
            select(BuyerAccount).where(BuyerAccount.invite_token_hash == _token_hash(token))
        ).scalar_one_or_none()
        if account is None or account.invite_expires_at is None or account.invite_expires_at < utcnow():
            raise LookupError("this invitation link is invalid or has expired; ask for a new one")
        account.password_hash = password_hash
        account.invite_token_hash = None
        account.invite_expires_at = None
        session.commit()
        return account


def authenticate_buyer(engine: Engine, email: str, password: str) -> BuyerAccount | None:
    with Session(engine, expire_on_commit=False) as session:
        account = session.execute(
            select(BuyerAccount).where(BuyerAccount.email == email.strip().lower())
        ).scalar_one_or_none()
        if not password_matches(account.password_hash if account else None, password):
            return None
        account.last_login_at = utcnow()
        session.commit()
        return account
