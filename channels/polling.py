"""What every poller shares: batches stored so that one unstorable item never holds back
others, and the loop that polls, backs off, reports health and follows leadership."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

# tenacity rather than stamina: its AsyncRetrying takes the sleep per instance (the loop's
# seam for tests and for X's clock), while stamina switches waits off only process-wide.
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception
from tenacity.wait import wait_exponential, wait_random

from channels.base import (
    ChannelHealth,
    Cursor,
    DeliveryStatus,
    Inbound,
    IntakeResult,
    IntakeSink,
    IntakeUnavailable,
    PlatformError,
    UnsupportedEvent,
)

log = logging.getLogger(__name__)

UNSTORABLE_KIND = "unstorable"
# Attempts (one per poll) after which an item that cannot be stored even as unreadable is
# logged and skipped: the platform keeps it only for a while, the items behind it wait.
SKIP_AFTER = 3
_MAX_ID = 200
_MAX_REASON = 1000


class ItemsPending(IntakeUnavailable):
    """Some items of a batch could not be stored yet: the cursor stays, the poll is retried."""


class _Refused(Exception):
    """The intake refused one item on its own: about its content, not an outage."""

    def __init__(self, cause: Exception) -> None:
        super().__init__(str(cause))
        self.cause = cause


@dataclass(frozen=True, slots=True)
class Stored:
    result: IntakeResult
    items: list[Inbound]  # the items stored as themselves (not as unreadable): fetch their media


@dataclass
class PollWriter:
    """Submits a poller's batches for one channel account.

    A batch refused for any reason but an unreachable database is stored item by item; an item
    refused on its own is kept as an `UnsupportedEvent` with the reason and its payload as
    escaped JSON, or, if even that is refused `SKIP_AFTER` times, logged and skipped. The cursor
    is committed only once every item is stored or skipped, so it always moves past a bad one.
    """

    channel: str
    account: str
    skip_after: int = SKIP_AFTER
    _strikes: dict[str, int] = field(default_factory=dict, repr=False)

    async def submit(
        self, sink: IntakeSink, items: Sequence[Inbound], cursor: Cursor
    ) -> Stored:
        try:
            return Stored(await sink.submit(items, cursor), list(items))
        except IntakeUnavailable as exc:
            if not await self._database_writes(sink, cursor):
                raise
            failure: Exception = exc
        except Exception as exc:  # the intake may choke on any content; handled item by item
            failure = exc
        log.warning(
            "%s %s: a batch of %d could not be stored (%s); storing item by item",
            self.channel, self.account, len(items), _reason(failure),
        )
        return await self._one_by_one(sink, items, cursor)

    async def _one_by_one(
        self, sink: IntakeSink, items: Sequence[Inbound], cursor: Cursor
    ) -> Stored:
        stored = duplicates = 0
        kept: list[Inbound] = []
        pending: list[str] = []
        for item in items:
            try:
                result = await self._alone(sink, item, cursor)
            except _Refused as refused:  # this item's content: kept as unreadable
                self._strike(item)
                result = await self._unstorable(sink, item, refused.cause)
            else:
                kept.append(item)
                self._strikes.pop(_item_id(item), None)
            if result is None:
                pending.append(_printable(_item_id(item)))
            else:
                stored, duplicates = stored + result.stored, duplicates + result.duplicates
        if pending:
            raise ItemsPending(f"not stored yet, retried on the next poll: {', '.join(pending)}")
        await sink.submit([], cursor)
        return Stored(IntakeResult(stored, duplicates), kept)

    async def _alone(self, sink: IntakeSink, item: Inbound, cursor: Cursor) -> IntakeResult:
        """`item` stored on its own. IntakeUnavailable means an outage (the poll is retried,
        nothing given up); _Refused means the intake will not take this item."""
        try:
            return await sink.submit([item], None)
        except IntakeUnavailable:
            if not await self._database_writes(sink, cursor):
                raise
        except Exception as exc:
            raise _Refused(exc) from exc
        # "Unavailable" for this item while the database took a write just now: a driver error
        # on its content, or a blip. One more try tells which.
        try:
            return await sink.submit([item], None)
        except Exception as exc:
            raise _Refused(exc) from exc

    def _strike(self, item: Inbound) -> int:
        item_id = _item_id(item)
        self._strikes[item_id] = self._strikes.get(item_id, 0) + 1
        return self._strikes[item_id]

    async def _unstorable(
        self, sink: IntakeSink, item: Inbound, exc: Exception
    ) -> IntakeResult | None:
        """Keep `item` as unreadable; None while it is to be tried again on the next poll."""
        item_id = _item_id(item)
        reason = f"not storable: {_reason(exc)}"
        try:
            # IntakeUnavailable here goes up: a database refusing even this plain record is
            # waited for, and nothing is skipped for it.
            result = await sink.submit([self.unreadable(item, reason)], None)
        except IntakeUnavailable:
            raise
        except Exception as again:  # counted: skipped after `skip_after` attempts
            log.warning("%s %s: item %s not kept as unreadable either: %s",
                        self.channel, self.account, _printable(item_id), _reason(again))
        else:
            log.warning("%s %s: item %s kept as unreadable: %s",
                        self.channel, self.account, _printable(item_id), reason)
            self._strikes.pop(item_id, None)
            return result
        strikes = self._strikes.get(item_id, 0)
        if strikes >= self.skip_after:
            log.error("%s %s: item %s skipped after %d attempts, not stored: %s",
                      self.channel, self.account, _printable(item_id), strikes, reason)
            self._strikes.pop(item_id, None)
            return IntakeResult(stored=0, duplicates=0)
        return None

    def unreadable(self, item: Inbound, reason: str) -> UnsupportedEvent:
        """`item` as a record any database can hold: a plain id, the payload as escaped JSON."""
        item_id = _item_id(item)
        safe_id = _printable(item_id)
        if safe_id != item_id or len(item_id) > _MAX_ID:
            safe_id = "unstorable:" + hashlib.sha256(safe_id.encode()).hexdigest()
        payload = json.dumps(getattr(item, "raw", {}), ensure_ascii=True, default=repr)
        return UnsupportedEvent(
            channel=self.channel,
            account=self.account,
            external_id=safe_id,
            kind=UNSTORABLE_KIND,
            reason=reason,
            raw={"external_id": _printable(item_id), "payload": payload},
        )

    async def _database_writes(self, sink: IntakeSink, cursor: Cursor) -> bool:
        """Whether the database takes a write (the cursor rewritten as it stands; "" reads as no
        cursor): then a refused item was refused for its content, not for an outage."""
        try:
            stored = await sink.read_cursor(cursor.channel, cursor.account, cursor.name)
            await sink.submit([], replace(cursor, value=stored or ""))
        except Exception:  # unreachable or refusing writes, whatever the driver calls it
            return False
        return True


def _item_id(item: Inbound) -> str:
    if isinstance(item, DeliveryStatus):
        return f"status:{item.platform_message_id}:{item.state.value}"
    return str(item.external_id)


def _printable(text: str) -> str:
    """`text` storable anywhere: lone surrogates and NUL written as escapes."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")


def _reason(exc: BaseException) -> str:
    return _printable(f"{type(exc).__name__}: {exc}")[:_MAX_REASON]


# --- the loop every poller runs -------------------------------------------------------------


class PollingHalted(Exception):
    """Raised by a poll when nothing works until an operator acts (a revoked token): the loop
    ends, reports the message as the account's failure and logs it once as an error."""


class _Stopping(Exception):
    """stop() was called while the loop rested: leave instead of polling once more."""


def platform_retry_after(exc: BaseException) -> float | None:
    """The wait a platform named (HTTP Retry-After, X's rate-limit reset, Graph's regain time)."""
    return exc.retry_after if isinstance(exc, PlatformError) else None


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class PollState:
    """What a loop last did, for health checks and tests. `state` is idle (not started), ok,
    failing, throttled (the platform named its wait) or stopped (needs the operator: `alert`)."""

    state: str = "idle"
    completed_polls: int = 0
    consecutive_failures: int = 0
    last_error: str | None = None
    retry_at: datetime | None = None  # no poll before this, by the loop's clock
    alert: str | None = None

    @property
    def failing(self) -> bool:
        return self.state in ("failing", "throttled")


@dataclass
class AccountHealth:
    """Where the loops of one channel account report (channels.base.ChannelHealth): every
    failure, and every success once no loop of the account is failing (X polls mentions and
    DMs in a loop each; the account works only when both do). `target` is read on each report:
    the runtime sets a channel's `health` after building it."""

    channel: str
    account: str
    target: Callable[[], ChannelHealth | None]
    _failing: set[str] = field(default_factory=set, repr=False)

    def failing(self, part: str, reason: str) -> None:
        self._failing.add(part)
        if (health := self.target()) is not None:
            health.failing(self.channel, self.account, reason)

    def working(self, part: str) -> None:
        self._failing.discard(part)
        if not self._failing and (health := self.target()) is not None:
            health.working(self.channel, self.account)


@dataclass(frozen=True, slots=True)
class Backoff:
    """Waits between failed tries (polls here; downloads in media_fetch, Telegram's setWebhook):
    `initial`, doubling, never above `maximum`, each with up to `initial` of random jitter
    (tenacity's strategies) so that tries that failed together do not repeat in step."""

    initial: float
    maximum: float

    def strategy(self) -> Callable[[RetryCallState], float]:
        jitter = min(self.initial, self.maximum / 2)
        return wait_exponential(
            multiplier=max(self.initial, 0.001), max=max(self.maximum - jitter, 0.0)
        ) + wait_random(0, jitter)


class PollLoop:
    """Runs one `poll()` coroutine again and again: every `interval()` seconds while it works,
    backed off (`Backoff`, or the platform's Retry-After) while it fails. Reports every outcome
    to `health` as channels.base.ChannelHealth asks, and logs only a change: the first failure
    (a traceback if the error was not one of `expected`), throttling, recovery.

    Leadership: the runtime starts a poller when this process is elected and stops it when
    deposed; `start()` while running is a no-op and `stop()` returns only once the poll task
    has ended, so two polls of one account never overlap in a process.

    `stop()` wakes a resting loop at once; a poll under way gets `grace` seconds to finish (a
    poll in a worker thread cannot be cancelled; it may watch `stopping`), then is cancelled.

    Time is a seam: `sleep(seconds)` and `clock()`. With `tick`, a back-off is slept in steps of
    at most `tick` until `clock()` passes its end (X: rate-limit resets are times on that clock).
    `rest(seconds)` replaces the sleep between two good polls (email waits in IMAP IDLE); an
    error there counts as a failed poll.
    """

    def __init__(
        self,
        poll: Callable[[], Awaitable[None]],
        *,
        name: str,
        health: AccountHealth,
        interval: Callable[[], float],
        backoff: Backoff,
        part: str = "",
        expected: tuple[type[BaseException], ...] = (PlatformError, IntakeUnavailable),
        retry_after: Callable[[BaseException], float | None] = platform_retry_after,
        grace: float = 0.0,
        rest: Callable[[float], Awaitable[None]] | None = None,
        clock: Callable[[], datetime] = utc_now,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        tick: float | None = None,
        logger: logging.Logger = log,
    ) -> None:
        self.poll = poll
        self.name = name  # "facebook polling of 1234": the subject of every log line
        self.health = health
        self.interval = interval
        self.backoff = backoff.strategy()
        self.part = part
        self.expected = expected
        self.retry_after = retry_after
        self.grace = grace
        self.rest = rest
        self.clock = clock
        self.sleep = sleep
        self.tick = tick
        self.log = logger
        self.state = PollState()
        self.stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._switch = asyncio.Lock()
        self._rest_first = False

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        async with self._switch:
            if self.running:
                return
            self.stopping.clear()
            self._rest_first = False
            self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        async with self._switch:
            task, self._task = self._task, None
            self.stopping.set()
            if task is None:
                return
            if not task.done() and self.grace > 0:
                await asyncio.wait({task}, timeout=self.grace)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def wait_ended(self) -> None:
        """Return once the loop has ended by itself (a PollingHalted) or was stopped."""
        if self._task is not None:
            await asyncio.shield(self._task)

    def halted(self, alert: str) -> None:
        """Record that the account needs its operator (also when a send found it out)."""
        self.state.state, self.state.alert, self.state.last_error = "stopped", alert, alert
        self.state.retry_at = None
        self.log.error("%s", alert)
        self.health.failing(self.part, alert)

    # --- the loop -----------------------------------------------------------------------------

    async def _run(self) -> None:
        retrying = AsyncRetrying(
            sleep=self._pause,
            wait=self._wait,
            retry=retry_if_exception(_retried),
            before_sleep=self._failed,
            reraise=True,
        )
        while not self.stopping.is_set():
            try:
                await retrying(self._attempt)
            except _Stopping:
                return
            except PollingHalted as exc:
                self.halted(str(exc))
                return
            self._succeeded()

    async def _attempt(self) -> None:
        if self._rest_first:  # the last poll worked: wait for the next one's time
            self._rest_first = False  # once: after a failed rest the back-off was the wait
            seconds = self.interval()
            await (self.rest(seconds) if self.rest is not None else self._nap(seconds))
        if self.stopping.is_set():
            raise _Stopping
        await self.poll()

    def _wait(self, retry_state: RetryCallState) -> float:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        named = self.retry_after(exc) if exc is not None else None
        if named is not None and named >= 0:
            return named
        return self.backoff(retry_state)

    def _failed(self, retry_state: RetryCallState) -> None:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        if exc is None:
            return
        wait = retry_state.upcoming_sleep
        named = self.retry_after(exc)
        state = self.state
        before = state.state
        state.state = "throttled" if named is not None else "failing"
        state.consecutive_failures += 1
        state.last_error = f"{type(exc).__name__}: {exc}"
        state.retry_at = self.clock() + timedelta(seconds=wait)
        self.health.failing(
            self.part, f"{self.part}: {state.last_error}" if self.part else state.last_error
        )
        if state.state == before:
            return  # still failing the same way: said already
        if named is not None:
            self.log.warning(
                "%s is throttled, next try after %s: %s",
                self.name,
                state.retry_at.isoformat(timespec="seconds"),
                state.last_error,
            )
            return
        unexpected = not isinstance(exc, self.expected)
        self.log.warning(
            "%s is failing, retrying with back-off: %s",
            self.name,
            state.last_error,
            exc_info=exc if unexpected else None,  # a bug's traceback, once
        )

    def _succeeded(self) -> None:
        state = self.state
        if state.failing:
            self.log.info("%s recovered", self.name)
        state.state = "ok"
        state.completed_polls += 1
        state.consecutive_failures = 0
        state.retry_at = None
        self._rest_first = True
        self.health.working(self.part)

    async def _pause(self, seconds: float) -> None:
        """A back-off: sleep `seconds` (by `clock` when ticking), or less if stop() is called."""
        if self.tick is None:
            await self._nap(seconds)
            return
        due = self.clock() + timedelta(seconds=seconds)
        while not self.stopping.is_set():
            left = (due - self.clock()).total_seconds()
            if left <= 0:
                return
            await self._nap(min(left, self.tick))

    async def _nap(self, seconds: float) -> None:
        if self.stopping.is_set():
            return
        nap = asyncio.ensure_future(self.sleep(seconds))
        woken = asyncio.ensure_future(self.stopping.wait())
        try:
            await asyncio.wait({nap, woken}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in (nap, woken):
                waiter.cancel()
            await asyncio.gather(nap, woken, return_exceptions=True)


def _retried(exc: BaseException) -> bool:
    """Every error of a poll is retried; a halt, a stop or a cancellation ends the loop."""
    return isinstance(exc, Exception) and not isinstance(exc, (PollingHalted, _Stopping))
