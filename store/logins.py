"""Sign-in attempts in the database: each one counted under the user's row lock before its
password is checked, so concurrent guesses cannot outrun the lock-out.

The password check itself (argon2, ~100 ms of CPU) runs between `reserve` and `finish`, outside
any transaction: holding SQLite's write lock through it stalled every webhook behind sign-ins.
"""

from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, select

from store.models import User
from store.sessions import open_session
from store.text import is_storable
from store.users import hash_password

MAX_FAILED_LOGINS = 5
LOCK_OUT_FOR = timedelta(minutes=15)
MAX_USERNAME = 120  # the column's length: a longer name is nobody's


@dataclass(frozen=True, slots=True)
class Attempt:
    """What to check a password against: the user's hash, or None for a name that is unknown
    or locked, checked against `stand_in_hash()` all the same so that it takes as long and
    says as little."""

    password_hash: str | None = None
    user_id: int | None = None  # set only when a right password opens a session


def canonical(username: str) -> str:
    return username.strip()


def is_known(session: Session, username: str) -> bool:
    """Read only: an unknown name never takes a write transaction."""
    name = canonical(username)
    if not name or len(name) > MAX_USERNAME or not is_storable(name):
        return False
    return session.exec(select(User.id).where(User.username == name)).first() is not None


def reserve(session: Session, username: str, *, now: datetime) -> Attempt:
    """Count one failed attempt before the check (a right password undoes it in `finish`);
    the attempt that reaches MAX_FAILED_LOGINS locks the account for LOCK_OUT_FOR."""
    query = select(User).where(User.username == canonical(username))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()  # SQLite's BEGIN IMMEDIATE already serializes writers
    user = session.exec(query).first()
    if user is None or user.disabled_at is not None:
        return Attempt()
    if user.locked_until is not None and user.locked_until > now:
        return Attempt()
    user.failed_logins += 1
    if user.failed_logins >= MAX_FAILED_LOGINS:
        user.failed_logins = 0
        user.locked_until = now + LOCK_OUT_FOR
    session.add(user)
    return Attempt(user.password_hash, user.id)


def finish(
    session: Session, user_id: int, *, now: datetime, new_hash: str | None = None
) -> str | None:
    """After a right password: clear the count and any lock this very burst set, store the
    password's hash made anew (`new_hash`, when the old one's parameters are outdated), open a
    session and return its token (None if the user is gone or disabled meanwhile)."""
    query = select(User).where(User.id == user_id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    user = session.exec(query).first()
    if user is None or user.disabled_at is not None:  # disabled while its password was checked
        return None
    user.failed_logins = 0
    user.locked_until = None
    if new_hash is not None:
        user.password_hash = new_hash
    session.add(user)
    return open_session(session, user, now=now)


@functools.cache
def stand_in_hash() -> str:
    """A hash of a random password, made once (~100 ms: call it off the event loop and
    outside any transaction)."""
    return hash_password(secrets.token_urlsafe(16))
