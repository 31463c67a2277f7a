"""Exactly one process runs each singleton (a poller, the scheduler): a PostgreSQL advisory lock
held on a connection of its own. On SQLite there is one process, so it always leads."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger(__name__)

Hook = Callable[[], Awaitable[None]]


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory lock key for a name."""
    return int.from_bytes(hashlib.sha256(f"kanal:{name}".encode()).digest()[:8], "big", signed=True)


def libpq_url(sqlalchemy_url: str) -> str:
    return sqlalchemy_url.replace("postgresql+psycopg://", "postgresql://", 1)


class Leadership:
    """Runs `on_elected` when this process takes the lock and `on_deposed` when it loses it
    (its connection died, PostgreSQL restarted) or stops. Followers try again every `retry`
    seconds, so a dead leader's work resumes elsewhere within about that time."""

    def __init__(
        self,
        url: str,
        name: str,
        on_elected: Hook,
        on_deposed: Hook,
        *,
        retry: float = 2.0,
        check: float = 1.0,
    ) -> None:
        self.name = name
        self.url = url
        self.on_elected = on_elected
        self.on_deposed = on_deposed
        self.retry = retry
        self.check = check
        self.leading = False
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"leadership-{self.name}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._step_down()

    async def _run(self) -> None:
        if self.url.startswith("sqlite"):
            await self._take_office()
            return
        while True:
            conn = await self._try_lock()
            if conn is not None:
                try:
                    await self._take_office()
                    await self._hold(conn)
                finally:
                    await self._step_down()
                    with contextlib.suppress(Exception):
                        await conn.close()
            await asyncio.sleep(self.retry)

    async def _try_lock(self) -> psycopg.AsyncConnection | None:
        import psycopg  # here: a process on SQLite never loads the driver (about 10 MB)

        try:
            conn = await psycopg.AsyncConnection.connect(
                libpq_url(self.url), autocommit=True, connect_timeout=5
            )
        except psycopg.OperationalError:
            return None
        try:
            cursor = await conn.execute("SELECT pg_try_advisory_lock(%s)", (lock_key(self.name),))
            row = await cursor.fetchone()
            if row and row[0]:
                return conn
        except psycopg.Error:
            pass
        await conn.close()
        return None

    async def _hold(self, conn: psycopg.AsyncConnection) -> None:
        """Keep the lock's connection alive; return when it is gone."""
        import psycopg

        while True:
            await asyncio.sleep(self.check)
            try:
                await asyncio.wait_for(conn.execute("SELECT 1"), timeout=max(self.check, 2.0))
            except (psycopg.Error, TimeoutError, OSError):
                log.warning("lost the lock for %s: its database connection is gone", self.name)
                return

    async def _take_office(self) -> None:
        log.info("this process now runs %s", self.name)
        self.leading = True
        await self.on_elected()

    async def _step_down(self) -> None:
        if self.leading:
            self.leading = False
            log.info("this process no longer runs %s", self.name)
            try:
                await self.on_deposed()
            except Exception:  # stopping must not keep the lock loop from going on
                log.exception("stopping %s failed", self.name)
