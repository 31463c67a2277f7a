"""What a flood of sign-in attempts may cost: a few attempts per client address and per
username in a window, and password checks on a small pool of their own with a short queue.

Argon2 costs ~100 ms of CPU a check. Run on asyncio's default pool, sixteen concurrent posters
took every thread the webhooks' database calls need; here they wait on the loop instead, and
beyond the queue they are turned away at once. The windows live in this process's memory: each
of several processes counts its own share, which still bounds the total; the lock-out after
repeated wrong passwords is in the database (store/logins.py) and holds across processes.
"""

from __future__ import annotations

import asyncio
import os
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from aiohttp import web

from store.logins import stand_in_hash
from store.users import hash_password, needs_rehash, password_matches

# Half the cores: the other half keeps serving webhooks and pages however many sign in.
CHECK_WORKERS = max(1, (os.cpu_count() or 2) // 2)
CHECK_QUEUE = 8  # attempts that may wait for a worker; more are told to retry shortly


@dataclass(frozen=True, slots=True)
class Limit:
    attempts: int
    window: timedelta


PER_ADDRESS = Limit(20, timedelta(minutes=10))  # an office behind one NAT signs in at 08:00
PER_USERNAME = Limit(10, timedelta(minutes=15))  # above the lock-out, for names nobody has
MAX_KEYS = 10_000  # addresses or names remembered; the oldest are forgotten first


class Busy(Exception):
    """Every password-check slot is taken: try again in a moment."""


class Window:
    """Attempts per key in a sliding window; a successful sign-in takes its attempt back."""

    def __init__(self, limit: Limit, clock: Callable[[], datetime]) -> None:
        self.limit = limit
        self.clock = clock
        self._seen: OrderedDict[str, deque[datetime]] = OrderedDict()

    def admit(self, key: str) -> bool:
        now = self.clock()
        times = self._seen.pop(key, None) or deque()
        while times and now - times[0] >= self.limit.window:
            times.popleft()
        admitted = len(times) < self.limit.attempts
        if admitted:
            times.append(now)
        self._seen[key] = times  # now the most recent key
        while len(self._seen) > MAX_KEYS:
            self._seen.popitem(last=False)
        return admitted

    def forgive(self, key: str) -> None:
        times = self._seen.get(key)
        if times:
            times.pop()


class LoginGuard:
    def __init__(self, clock: Callable[[], datetime], *, workers: int = CHECK_WORKERS) -> None:
        self.addresses = Window(PER_ADDRESS, clock)
        self.usernames = Window(PER_USERNAME, clock)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kanal-login")
        self._free = workers + CHECK_QUEUE

    def admit(self, address: str, username: str) -> bool:
        """False when this address or this name has had its attempts for now; both count."""
        by_address = self.addresses.admit(address)
        by_name = self.usernames.admit(username.strip().casefold()[:120])
        return by_address and by_name

    def forgive(self, address: str, username: str) -> None:
        self.addresses.forgive(address)
        self.usernames.forgive(username.strip().casefold()[:120])

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """A place among the checks running or queued; Busy when there is none."""
        if self._free <= 0:
            raise Busy
        self._free -= 1
        try:
            yield
        finally:
            self._free += 1

    async def check(self, password_hash: str | None, password: str) -> bool:
        """Whether `password` matches; None checks against a stand-in, which takes as long."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, _matches, password_hash, password)

    async def rehash(self, password_hash: str, password: str) -> str | None:
        """A new hash of a right password whose stored hash has outdated parameters, made on
        the guard's pool; None when the stored one is current."""
        if not needs_rehash(password_hash):
            return None
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, hash_password, password)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _matches(password_hash: str | None, password: str) -> bool:
    # Even the stand-in's first hashing happens here, never on the event loop.
    return password_matches(password_hash or stand_in_hash(), password)


LOGIN_GUARD = web.AppKey("login_guard", LoginGuard)


def setup(app: web.Application, clock: Callable[[], datetime]) -> None:
    """One guard per app, its pool shut down with the app."""

    async def lifetime(app: web.Application) -> AsyncIterator[None]:
        yield
        app[LOGIN_GUARD].close()

    app[LOGIN_GUARD] = LoginGuard(clock)
    app.cleanup_ctx.append(lifetime)
