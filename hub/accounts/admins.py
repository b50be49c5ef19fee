"""Admin accounts: created by `leadhub users create --admin` or, once, on the first `serve`."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from hub.accounts.passwords import hash_password, new_password, password_matches
from hub.models import AdminUser, utcnow

FIRST_ADMIN = "admin@example.com"  # change it, or add your own with `leadhub users create --admin`


def create_admin(engine: Engine, email: str, password: str) -> AdminUser:
    try:
        email = validate_email(email, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ValueError(f"email: {exc}") from None
    with Session(engine, expire_on_commit=False) as session:
        if session.execute(select(AdminUser).where(AdminUser.email == email)).first():
            raise ValueError(f"email: there is already an admin {email}")
        admin = AdminUser(email=email, password_hash=hash_password(password))
        session.add(admin)
        session.commit()
        return admin


def ensure_first_admin(engine: Engine) -> tuple[str, str] | None:
    """With no admin at all, create one and return (email, password) to print once; else None."""
    with Session(engine) as session:
        if session.execute(select(func.count()).select_from(AdminUser)).scalar_one():
            return None
    password = new_password()
    create_admin(engine, FIRST_ADMIN, password)
    return FIRST_ADMIN, password


def authenticate_admin(engine: Engine, email: str, password: str) -> AdminUser | None:
    with Session(engine, expire_on_commit=False) as session:
        admin = session.execute(select(AdminUser).where(AdminUser.email == email.strip().lower())).scalar_one_or_none()
        if not password_matches(admin.password_hash if admin else None, password):
            return None
        admin.last_login_at = utcnow()
        session.commit()
        return admin
