"""The poll loop every polling channel runs (channels.polling.PollLoop), through a tiny real
poller against a local HTTP platform that fails, throttles and recovers on cue."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import aiohttp
import psycopg
import pytest
from aiohttp import web

from channels.base import PlatformError
from channels.polling import AccountHealth, Backoff, PollingHalted, PollLoop
from store.leadership import Leadership, libpq_url
from support.health import HealthLog
from support.waiting import until

ACCOUNT = "akun-1"


@dataclass
class FakePlatform:
    """Answers GET /updates from a script: an int is a status (429 comes with Retry-After from
    `retry_after`; 299 is a 200 whose body is not JSON), and once the script is used up every
    poll gets 200. `hang` holds answers."""

    script: list[int] = field(default_factory=list)
    retry_after: str = "7"
    delay: float = 0.0
    hang: bool = False
    polls: list[tuple[str, float]] = field(default_factory=list)  # (poller, monotonic time)
    _runner: web.AppRunner | None = None
    _released: asyncio.Event = field(default_factory=asyncio.Event)
    url: str = ""

    async def start(self) -> FakePlatform:
        app = web.Application()
        app.router.add_get("/updates", self._updates)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/updates"
        return self

    async def stop(self) -> None:
        self.hang = False
        self._released.set()  # a held answer ends, so the server shuts down at once
        if self._runner is not None:
            await self._runner.cleanup()

    async def _updates(self, request: web.Request) -> web.Response:
        self.polls.append((request.headers.get("X-Poller", ""), time.monotonic()))
        if self.hang:
            await self._released.wait()
        if self.delay:
            await asyncio.sleep(self.delay)
        status = self.script.pop(0) if self.script else 200
        if status == 429:
            return web.json_response(
                {"error": "slow down"}, status=429, headers={"Retry-After": self.retry_after}
            )
        if status == 299:
            return web.Response(text="<html>maintenance</html>", content_type="text/html")
        return web.json_response({"updates": []}, status=status)

    def by(self, poller: str) -> int:
        return sum(1 for who, _ in self.polls if who == poller)


class TinyPoller:
    """What a channel's one poll is: one request, its errors as PlatformError. Counts how many
    of its polls run at once, which must never be more than one."""

    def __init__(self, http: aiohttp.ClientSession, url: str, name: str = "a") -> None:
        self.http, self.url, self.name = http, url, name
        self.active = self.most_active = 0

    async def poll(self) -> None:
        self.active += 1
        self.most_active = max(self.most_active, self.active)
        try:
            async with self.http.get(self.url, headers={"X-Poller": self.name}) as response:
                if response.status == 429:
                    raise PlatformError(
                        "platform answered 429",
                        retryable=True,
                        code="429",
                        retry_after=float(response.headers["Retry-After"]),
                    )
                if response.status == 401:  # as a revoked token: nothing works until fixed
                    raise PollingHalted("token revoked: set a new one and restart")
                if response.status >= 400:
                    raise PlatformError(
                        f"platform answered {response.status}",
                        retryable=True,
                        code=str(response.status),
                    )
                await response.json()  # a body that is no JSON: a bug of this poller
        finally:
            self.active -= 1


class FakeTime:
    """The loop's clock and sleep: a sleep moves the clock at once and is recorded."""

    def __init__(self) -> None:
        self.now = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)
        self.sleeps: list[float] = []
        self.watch: Callable[[], object] | None = None  # what the test looks at per sleep
        self.seen: list[object] = []

    def clock(self) -> datetime:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if self.watch is not None:
            self.seen.append(self.watch())
        self.now += timedelta(seconds=seconds)
        await asyncio.sleep(0)


@pytest.fixture
async def platform() -> AsyncIterator[FakePlatform]:
    fake = await FakePlatform().start()
    yield fake
    await fake.stop()


def make_loop(
    poller: TinyPoller,
    health: HealthLog,
    *,
    time_: FakeTime | None = None,
    backoff: Backoff | None = None,
    interval: float = 60.0,
    **options: object,
) -> PollLoop:
    seams: dict[str, object] = {}
    if time_ is not None:
        seams = {"clock": time_.clock, "sleep": time_.sleep}
    return PollLoop(
        poller.poll,
        name=f"tiny polling of {poller.name}",
        health=AccountHealth("tiny", ACCOUNT, lambda: health),
        interval=lambda: interval,
        backoff=backoff or Backoff(1.0, 10.0),
        **seams,  # type: ignore[arg-type]
        **options,  # type: ignore[arg-type]
    )


async def test_failures_back_off_growing_jittered_and_capped(
    platform: FakePlatform, http: aiohttp.ClientSession
) -> None:
    platform.script = [500] * 8
    time_, health = FakeTime(), HealthLog()
    poller = TinyPoller(http, platform.url)
    loop = make_loop(poller, health, time_=time_, backoff=Backoff(1.0, 10.0))
    await loop.start()
    try:
        await until(lambda: loop.state.completed_polls >= 1)
    finally:
        await loop.stop()
    waits = time_.sleeps[:8]
    # The n-th wait: 1s doubling (capped at 10s less the jitter), plus up to 1s of jitter.
    floors = [1, 2, 4, 8, 9, 9, 9, 9]
    assert all(f <= w <= f + 1 for f, w in zip(floors, waits, strict=True)), waits
    assert waits[:4] == sorted(waits[:4]) and max(waits) <= 10
    assert len({round(w - f, 6) for f, w in zip(floors, waits, strict=True)}) > 1  # jittered
    assert len(platform.polls) <= len(time_.sleeps) + 1  # a wait before every poll but the first


async def test_a_retry_after_replaces_the_back_off(
    platform: FakePlatform, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="channels.polling")
    platform.script = [500, 429, 429]
    platform.retry_after = "120"
    time_, health = FakeTime(), HealthLog()
    loop = make_loop(TinyPoller(http, platform.url), health, time_=time_)
    time_.watch = lambda: (loop.state.state, loop.state.retry_at, time_.clock())
    await loop.start()
    try:
        await until(lambda: loop.state.completed_polls >= 1)
    finally:
        await loop.stop()
    assert time_.sleeps[1:3] == [120.0, 120.0]  # what the platform named, not 2s, 4s
    for state, retry_at, now in time_.seen[1:3]:  # type: ignore[misc]
        assert (state, retry_at) == ("throttled", now + timedelta(seconds=120))
    assert 1 <= time_.sleeps[0] <= 2
    # Said once (the second 429 is no change), with the time the platform named.
    until_ = datetime(2026, 12, 6, 8, 0, tzinfo=UTC) + timedelta(seconds=time_.sleeps[0] + 120)
    said = [r.getMessage() for r in caplog.records]
    assert [m for m in said if "is throttled" in m] == [
        f"tiny polling of a is throttled, next try after {until_.isoformat(timespec='seconds')}"
        ": PlatformError: platform answered 429"
    ]


async def test_health_gets_every_outcome_and_the_log_only_changes(
    platform: FakePlatform, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="channels.polling")
    platform.script = [502, 502, 502]
    time_, health = FakeTime(), HealthLog()
    loop = make_loop(TinyPoller(http, platform.url), health, time_=time_)
    await loop.start()
    try:
        await until(lambda: loop.state.completed_polls >= 3)
        platform.script = [503]
        await until(lambda: any("503" in call[-1] for call in health.calls))
        done = loop.state.completed_polls
        await until(lambda: loop.state.completed_polls >= done + 2)
    finally:
        await loop.stop()
    failed = ("failing", "tiny", ACCOUNT, "PlatformError: platform answered 502")
    working = ("working", "tiny", ACCOUNT)
    assert health.calls[:4] == [failed, failed, failed, working]
    again = health.calls.index(("failing", "tiny", ACCOUNT, "PlatformError: platform answered 503"))
    assert set(health.calls[4:again]) == {working}  # every good poll, not only the first
    assert health.calls[again + 1 :] and set(health.calls[again + 1 :]) == {working}
    said = [r.getMessage() for r in caplog.records]
    failing = "tiny polling of a is failing, retrying with back-off: PlatformError: platform"
    assert [m for m in said if "is failing" in m or "recovered" in m] == [
        f"{failing} answered 502",
        "tiny polling of a recovered",
        f"{failing} answered 503",
        "tiny polling of a recovered",
    ]
    assert loop.state.state == "ok" and loop.state.retry_at is None


async def test_a_bug_in_a_poll_is_retried_and_its_traceback_logged_once(
    platform: FakePlatform, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="channels.polling")
    platform.script = [299, 299, 299]
    time_, health = FakeTime(), HealthLog()
    loop = make_loop(TinyPoller(http, platform.url), health, time_=time_)
    await loop.start()
    try:
        await until(lambda: loop.state.completed_polls >= 1)
    finally:
        await loop.stop()
    with_trace = [r for r in caplog.records if r.exc_info]
    assert len(with_trace) == 1 and "ContentTypeError" in with_trace[0].getMessage()
    assert len(platform.polls) >= 4  # retried, not given up


async def test_a_halt_ends_the_loop_with_one_alert(
    platform: FakePlatform, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    platform.script = [401] * 10
    health = HealthLog()
    loop = make_loop(TinyPoller(http, platform.url), health, backoff=Backoff(0.01, 0.05))
    await loop.start()
    async with asyncio.timeout(5):
        await loop.wait_ended()
    assert len(platform.polls) == 1 and loop.state.state == "stopped" and not loop.running
    alert = "token revoked: set a new one and restart"
    assert health.calls == [("failing", "tiny", ACCOUNT, alert)]
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR] == [alert]
    await loop.stop()


async def test_stop_is_prompt_while_backing_off_and_mid_poll(
    platform: FakePlatform, http: aiohttp.ClientSession
) -> None:
    platform.script = [500]
    health = HealthLog()
    resting = make_loop(TinyPoller(http, platform.url), health, backoff=Backoff(600.0, 3600.0))
    await resting.start()
    await until(lambda: resting.state.consecutive_failures == 1)
    started = time.monotonic()
    await resting.stop()  # ten minutes of back-off left
    assert time.monotonic() - started < 0.5

    platform.hang = True
    hanging = make_loop(TinyPoller(http, platform.url, "h"), health)
    await hanging.start()
    await until(lambda: platform.by("h") == 1)
    started = time.monotonic()
    await hanging.stop()  # no grace: a poll that never answers is cancelled
    assert time.monotonic() - started < 0.5
    names = {task.get_name() for task in asyncio.all_tasks()}
    assert not names & {"tiny polling of a", "tiny polling of h"}  # no task left behind


async def test_stop_lets_a_poll_under_way_finish_within_its_grace(
    platform: FakePlatform, http: aiohttp.ClientSession
) -> None:
    platform.delay = 0.3
    health = HealthLog()
    loop = make_loop(TinyPoller(http, platform.url), health, grace=5.0)
    await loop.start()
    await until(lambda: len(platform.polls) == 1)
    await loop.stop()
    assert loop.state.completed_polls == 1  # finished, not cut off
    assert len(platform.polls) == 1 and not loop.running


async def test_start_is_idempotent_and_restarts_never_overlap(
    platform: FakePlatform, http: aiohttp.ClientSession
) -> None:
    platform.delay = 0.02
    poller = TinyPoller(http, platform.url)
    loop = make_loop(poller, HealthLog(), interval=0.0, grace=1.0)
    for _ in range(5):
        await asyncio.gather(loop.start(), loop.start())
        await until(lambda: len(platform.polls) > 0)
        await asyncio.sleep(0.05)
        await asyncio.gather(loop.stop(), loop.start(), loop.stop())
    assert poller.most_active == 1 and not loop.running


# --- leadership: two "processes" on one PostgreSQL --------------------------------------------


async def terminate_lock_holder(url: str, holder: Leadership) -> None:
    """Cut the leader's lock connection from the server side, as a PostgreSQL restart or a
    network failure would."""
    async with await psycopg.AsyncConnection.connect(libpq_url(url), autocommit=True) as admin:
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory'"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            " AND pid <> pg_backend_pid()"
        )
    await until(lambda: not holder.leading, timeout=10)


async def test_only_the_leader_polls_and_polling_follows_leadership(
    platform: FakePlatform, http: aiohttp.ClientSession, pg_database: str
) -> None:
    pollers = {name: TinyPoller(http, platform.url, name) for name in ("a", "b")}
    loops = {
        name: make_loop(poller, HealthLog(), interval=0.02, grace=1.0)
        for name, poller in pollers.items()
    }
    offices = {
        name: Leadership(
            pg_database, f"poller:tiny:{ACCOUNT}", loop.start, loop.stop, retry=0.1, check=0.1
        )
        for name, loop in loops.items()
    }
    await offices["a"].start()
    await until(lambda: offices["a"].leading and platform.by("a") >= 3)
    await offices["b"].start()
    await asyncio.sleep(0.5)  # several retries of the follower: it never polls
    assert platform.by("b") == 0 and not loops["b"].running

    # The leader steps down (a process stopping): the follower takes over, with no overlap.
    await offices["a"].stop()
    assert not loops["a"].running
    handed_over = time.monotonic()
    await until(lambda: platform.by("b") >= 3)
    assert all(t < handed_over for who, t in platform.polls if who == "a")

    # The new leader's lock connection dies: it stops polling; the other, back in the race,
    # takes the lock and its same loop resumes.
    await offices["a"].start()
    await terminate_lock_holder(pg_database, offices["b"])
    assert not loops["b"].running
    deposed = time.monotonic()
    await until(lambda: offices["a"].leading and loops["a"].running)
    resumed = platform.by("a")
    await until(lambda: platform.by("a") >= resumed + 3)
    assert all(t < deposed for who, t in platform.polls if who == "b")
    assert not (offices["a"].leading and offices["b"].leading)
    for office in offices.values():
        await office.stop()
    assert not any(loop.running for loop in loops.values())
    assert all(poller.most_active == 1 for poller in pollers.values())
