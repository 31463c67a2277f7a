"""Server-side browser sessions of signed-in staff (the sign-in itself: store/logins.py)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlmodel import Session, col, delete, select

from store.models import User, WebSession

SESSION_IDLE = timedelta(hours=12)  # an unused session ends after a working day
SESSION_MAX = timedelta(days=7)
TOUCH_EVERY = timedelta(minutes=5)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


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
