"""Staff sign-in: password checks with lock-out, and server-side browser sessions."""

from __future__ import annotations

import functools
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, delete, select

from store.models import User, WebSession
from store.users import hash_password, password_matches

MAX_FAILED_LOGINS = 5
LOCK_OUT_FOR = timedelta(minutes=15)
SESSION_IDLE = timedelta(hours=12)  # an unused session ends after a working day
SESSION_MAX = timedelta(days=7)
TOUCH_EVERY = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class SignIn:
    """The outcome of a sign-in attempt: a session token, or why there is none."""

    token: str | None = None
    refused: str | None = None  # "bad_credentials" or "locked"
    locked_until: datetime | None = None


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def sign_in(session: Session, username: str, password: str, *, now: datetime) -> SignIn:
    """Check the password, count failures, lock the account after MAX_FAILED_LOGINS."""
    user = session.exec(select(User).where(User.username == username.strip())).first()
    if user is None or user.disabled_at is not None:
        # Hash anyway so that a wrong name takes as long as a wrong password.
        password_matches(_dummy_hash(), password)
        return SignIn(refused="bad_credentials")
    if user.locked_until is not None and user.locked_until > now:
        return SignIn(refused="locked", locked_until=user.locked_until)
    if not password_matches(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until = now + LOCK_OUT_FOR
            user.failed_logins = 0
            session.add(user)
            return SignIn(refused="locked", locked_until=user.locked_until)
        session.add(user)
        return SignIn(refused="bad_credentials")
    user.failed_logins = 0
    user.locked_until = None
    session.add(user)
    return SignIn(token=open_session(session, user, now=now))


def open_session(session: Session, user: User, *, now: datetime) -> str:
    token = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            token_hash=_hash(token),
            user_id=user.id or 0,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            last_seen_at=now,
            expires_at=now + SESSION_MAX,
        )
    )
    return token


def session_user(session: Session, token: str, *, now: datetime) -> tuple[User, WebSession] | None:
    """The user behind a live session token (read only; see `needs_touch`)."""
    row = session.exec(
        select(User, WebSession)
        .join(WebSession, col(WebSession.user_id) == User.id)
        .where(WebSession.token_hash == _hash(token))
    ).first()
    if row is None:
        return None
    user, web_session = row
    if user.disabled_at is not None:  # `disable_user` ends sessions; this covers a race with it
        return None
    if web_session.expires_at <= now or now - web_session.last_seen_at > SESSION_IDLE:
        return None
    return user, web_session


def needs_touch(web_session: WebSession, now: datetime) -> bool:
    # Recording every request's time would make each page view a write transaction.
    return now - web_session.last_seen_at > TOUCH_EVERY


def touch(session: Session, session_id: int, now: datetime) -> None:
    web_session = session.get(WebSession, session_id)
    if web_session is not None:
        web_session.last_seen_at = now
        session.add(web_session)


def close_session(session: Session, token: str) -> None:
    session.exec(delete(WebSession).where(col(WebSession.token_hash) == _hash(token)))


def unlock(session: Session, username: str) -> bool:
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        return False
    user.failed_logins = 0
    user.locked_until = None
    session.add(user)
    return True


@functools.cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))
