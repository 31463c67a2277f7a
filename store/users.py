"""Staff accounts and API tokens: argon2 password hashes, tokens kept only as SHA-256."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlmodel import Session, col, select

from store.models import ApiToken, User

ROLES = ("operator", "supervisor", "admin", "opd")
TOKEN_PREFIX = "kanal_"
_hasher = PasswordHasher()


class UserError(ValueError):
    pass


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, InvalidHashError):
        return False


def add_user(
    session: Session,
    username: str,
    password: str,
    role: str,
    *,
    now: datetime,
    opd: str | None = None,
) -> User:
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}")
    if role == "opd" and not opd:
        raise UserError("an opd user needs --opd CODE")
    if len(password) < 8:
        raise UserError("the password needs at least 8 characters")
    if session.exec(select(User).where(User.username == username)).first():
        raise UserError(f"user {username!r} exists already")
    user = User(
        username=username,
        password_hash=hash_password(password),
        role=role,
        opd=opd,
        created_at=now,
    )
    session.add(user)
    session.flush()
    return user


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, username: str, *, now: datetime, name: str = "") -> str:
    """A new API token acting as `username`; the token itself is shown once, never stored."""
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        raise UserError(f"no user {username!r}; create it with `user add` first")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            user_id=user.id or 0,
            name=name or username,
            token_hash=token_hash(token),
            created_at=now,
        )
    )
    return token


def user_for_token(session: Session, token: str) -> User | None:
    row = session.exec(
        select(User)
        .join(ApiToken, col(ApiToken.user_id) == User.id)
        .where(ApiToken.token_hash == token_hash(token), col(ApiToken.revoked_at).is_(None))
    ).first()
    return row
