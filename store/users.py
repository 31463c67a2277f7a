"""Staff accounts and API tokens: argon2 password hashes, tokens kept only as SHA-256;
revoking tokens and disabling accounts."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from store.models import ApiToken, User, WebSession
from store.sessions import TOUCH_EVERY

ROLES = ("operator", "supervisor", "admin", "opd")
TOKEN_PREFIX = "kanal_"
# A name goes into page paths (/users/NAME/unlock): no slash, no dot-only segment, no space.
USERNAME_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}"
USERNAME = re.compile(USERNAME_PATTERN)
# Argon2id at OWASP's recommended minimum (19 MiB, 2 passes, 1 lane) rather than argon2-cffi's
# default (64 MiB, 3 passes, 4 lanes): each sign-in held 64 MiB, a third of a server's memory
# budget, for a check that is also rate-limited per name and address (inbox/login_guard.py).
# A hash made with other parameters still verifies with its own and is replaced at sign-in.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


class UserError(ValueError):
    """A refused account change; `key` names the reason for translated pages."""

    def __init__(self, message: str, key: str = "") -> None:
        super().__init__(message)
        self.key = key


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """An API token as `token list` and the users page show it (never the token itself)."""

    id: int
    username: str
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def check_username(username: str) -> None:
    if not USERNAME.fullmatch(username):
        raise UserError(
            f"invalid username {username!r}: 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit",
            key="username",
        )


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def needs_rehash(password_hash: str) -> bool:
    """Whether a stored hash was made with other parameters than today's."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return False


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
    check_username(username)
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}", key="role")
    if role == "opd" and not opd:
        raise UserError("an opd user needs --opd CODE", key="opd_missing")
    if len(password) < 8:
        raise UserError("the password needs at least 8 characters", key="password")
    if session.exec(select(User).where(User.username == username)).first():
        raise UserError(f"user {username!r} exists already", key="exists")
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
    if user.disabled_at is not None:
        raise UserError(f"user {username!r} is disabled")
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


def token_user(session: Session, token: str) -> tuple[User, ApiToken] | None:
    """The user behind a live API token, with the token (read only; see `token_needs_touch`)."""
    row = session.exec(
        select(User, ApiToken)
        .join(ApiToken, col(ApiToken.user_id) == User.id)
        .where(
            ApiToken.token_hash == token_hash(token),
            col(ApiToken.revoked_at).is_(None),
            col(User.disabled_at).is_(None),
        )
    ).first()
    return (row[0], row[1]) if row else None


def token_needs_touch(api_token: ApiToken, now: datetime) -> bool:
    # As for web sessions: recording every call's time would make each call a write.
    last = api_token.last_used_at
    return last is None or now - last > TOUCH_EVERY


def touch_token(session: Session, token_id: int, now: datetime) -> None:
    """Record that the token was used at `now` (the admin's "last used" column)."""
    session.exec(update(ApiToken).where(col(ApiToken.id) == token_id).values(last_used_at=now))


def list_tokens(session: Session) -> list[TokenInfo]:
    rows = session.exec(
        select(ApiToken, User.username)
        .join(User, col(ApiToken.user_id) == User.id)
        .order_by(col(ApiToken.id))
    ).all()
    return [
        TokenInfo(t.id or 0, username, t.name, t.created_at, t.last_used_at, t.revoked_at)
        for t, username in rows
    ]


def revoke_token(session: Session, token_id: int, *, now: datetime) -> bool:
    """Revoke one token; False when there is no such token. A revoked one keeps its date."""
    token = session.get(ApiToken, token_id)
    if token is None:
        return False
    if token.revoked_at is None:
        token.revoked_at = now
        session.add(token)
    return True


def disable_user(session: Session, username: str, *, now: datetime) -> tuple[int, int]:
    """Disable an account: its sessions end and its tokens are revoked, at once.

    Returns (sessions ended, tokens revoked)."""
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        raise UserError(f"no user {username!r}")
    if user.disabled_at is None:
        user.disabled_at = now
        session.add(user)
        session.flush()
    ended = session.execute(delete(WebSession).where(col(WebSession.user_id) == user.id))
    revoked = session.execute(
        update(ApiToken)
        .where(col(ApiToken.user_id) == user.id, col(ApiToken.revoked_at).is_(None))
        .values(revoked_at=now)
    )
    return ended.rowcount, revoked.rowcount
