"""Changes to staff accounts made on the users page, each written to the accounts' audit trail
(user_events) in the same transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, col, select

from store.models import User, UserEvent, WebSession
from store.users import ROLES, UserError, hash_password

MIN_PASSWORD = 8


def record(
    session: Session, actor: str, username: str, action: str, *, now: datetime, **data: Any
) -> None:
    session.add(UserEvent(at=now, actor=actor, username=username, action=action, data=data))


def recent(session: Session, limit: int = 50) -> list[UserEvent]:
    """The newest account changes first."""
    query = select(UserEvent).order_by(col(UserEvent.id).desc()).limit(limit)
    return list(session.exec(query).all())


def _user(session: Session, username: str) -> User:
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        raise UserError(f"no user {username!r}", key="unknown")
    return user


def change_role(
    session: Session, username: str, role: str, opd: str | None, *, actor: str, now: datetime
) -> User:
    """A new role and OPD (an OPD only for the "opd" role); sessions stay, the next request
    reads the new role."""
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}", key="role")
    if role == "opd" and not opd:
        raise UserError("an OPD liaison needs an OPD", key="opd_missing")
    user = _user(session, username)
    before = {"role": user.role, "opd": user.opd}
    user.role, user.opd = role, opd if role == "opd" else None
    session.add(user)
    after = {"role": user.role, "opd": user.opd}
    if after != before:
        record(session, actor, username, "changed", now=now, before=before, after=after)
    return user


def enable(session: Session, username: str, *, actor: str, now: datetime) -> None:
    """A disabled account may sign in again (its old sessions and tokens stay ended)."""
    user = _user(session, username)
    if user.disabled_at is not None:
        user.disabled_at = None
        user.failed_logins, user.locked_until = 0, None
        session.add(user)
        record(session, actor, username, "enabled", now=now)


def reset_password(
    session: Session, username: str, password: str, *, actor: str, now: datetime
) -> None:
    """A password the admin gives the person; every session of the account ends."""
    if len(password) < MIN_PASSWORD:
        raise UserError("the password needs at least 8 characters", key="password")
    user = _user(session, username)
    user.password_hash = hash_password(password)
    user.failed_logins, user.locked_until = 0, None
    session.add(user)
    session.execute(delete(WebSession).where(col(WebSession.user_id) == user.id))
    record(session, actor, username, "password_reset", now=now)
