"""The intake sink: every channel's batches, group-committed, answered only once durable."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy.exc import DBAPIError, IntegrityError

from channels.base import (
    Attachment,
    AttachmentKind,
    Cursor,
    Inbound,
    InboundMessage,
    IntakeResult,
    IntakeUnavailable,
    MediaResult,
    PendingMedia,
)
from observability.metrics import Metrics
from store import ingest
from store.db import Database
from triage.intake_batch import BatchOutcome, BatchWriter, item_key
from triage.intake_fit import fit_items, unstorable
from triage.intake_replies import ReplyRules

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
T = TypeVar("T")
JAKARTA = ZoneInfo("Asia/Jakarta")


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class _Pending:
    items: Sequence[Inbound]
    cursor: Cursor | None
    future: asyncio.Future[IntakeResult] = field(repr=False)


class Intake:
    """Implements `channels.base.IntakeSink`.

    Callers' batches wait in a queue; one writer task takes everything queued (up to
    `max_batch` items; if it found the queue empty, waiting at most `max_delay` seconds for
    more) and commits it in one transaction in a worker thread. A burst of webhooks thus costs
    a few commits, not one each, and no caller is answered before its items are durable.
    """

    def __init__(
        self,
        db: Database,
        *,
        ticket_prefix: str = "LBP",
        tz: tzinfo = JAKARTA,
        clock: Clock = utc_now,
        max_batch: int = 500,
        max_delay: float = 0.002,
        on_new_tickets: Callable[[list[int]], Awaitable[None]] | None = None,
        verify_due: Callable[[datetime], datetime] | None = None,
        metrics: Metrics | None = None,
        replies: ReplyRules | None = None,
        on_changed_tickets: Callable[[list[int]], Awaitable[None]] | None = None,
        on_replies_queued: Callable[[], None] | None = None,
    ) -> None:
        self.db = db
        self.metrics = metrics or Metrics()
        # Intake's own answers (acknowledgement, status, reopened) and whom to tell of them.
        self.replies = replies
        self.on_changed_tickets = on_changed_tickets  # a later message added to these
        self.on_replies_queued = on_replies_queued
        self.verify_due = verify_due  # the operators' clock, from a report's arrival
        self.prefix = ticket_prefix
        self.tz = tz
        self.clock = clock
        self.max_batch = max_batch
        self.max_delay = max_delay
        self.on_new_tickets = on_new_tickets
        self._queue: asyncio.Queue[_Pending] | None = None
        self._writer: asyncio.Task[None] | None = None
        self._followers: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        if self._writer is None:
            self._queue = asyncio.Queue()
            self._writer = asyncio.create_task(self._write_forever(), name="intake-writer")

    async def stop(self) -> None:
        """Finish what is queued, then stop the writer."""
        if self._writer is None or self._queue is None:
            return
        await self._queue.join()
        self._writer.cancel()
        try:
            await self._writer
        except asyncio.CancelledError:
            pass
        self._writer = None
        if self._followers:
            await asyncio.gather(*self._followers, return_exceptions=True)

    async def submit(self, items: Sequence[Inbound], cursor: Cursor | None = None) -> IntakeResult:
        if self._queue is None:
            raise RuntimeError("Intake.start() was not called")
        if not items and cursor is None:
            return IntakeResult(stored=0, duplicates=0)
        future: asyncio.Future[IntakeResult] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Pending(fit_items(items), cursor, future))
        return await future

    async def read_cursor(self, channel: str, account: str, name: str) -> str | None:
        def read() -> str | None:
            with self.db.engine.connect() as conn:
                return ingest.read_cursor(conn, channel, account, name)

        return await self._guarded(read)

    async def record_media(self, result: MediaResult) -> None:
        values = {
            "stored_path": result.stored_path,
            "fetch_state": "failed" if result.error else "stored",
            "fetch_error": result.error,
        }
        for name in ("sha256", "size", "mime_type"):
            if getattr(result, name) is not None:
                values[name] = getattr(result, name)

        def write() -> None:
            with self.db.engine.connect().execution_options(kanal_write=True) as conn:
                with conn.begin():
                    changed = ingest.record_media(
                        conn, result.channel, result.message_external_id, result.media_ref, values
                    )
            if not changed:
                log.warning(
                    "media result matched no attachment: channel=%s external_id=%s ref=%s",
                    result.channel,
                    result.message_external_id,
                    result.media_ref,
                )

        await self._guarded(write)

    async def pending_media(
        self, channel: str, account: str, since: datetime
    ) -> list[PendingMedia]:
        def read() -> list[PendingMedia]:
            with self.db.engine.connect() as conn:
                rows = ingest.pending_attachments(conn, channel, account, since)
            return [
                PendingMedia(
                    row.external_id,
                    Attachment(
                        kind=AttachmentKind(row.kind),
                        mime_type=row.mime_type,
                        media_ref=row.media_ref,
                        size=row.size,
                        file_name=row.file_name,
                        sha256=row.sha256,
                        caption=row.caption,
                    ),
                )
                for row in rows
            ]

        return await self._guarded(read)

    async def _guarded(self, work: Callable[[], T]) -> T:
        try:
            return await asyncio.to_thread(work)
        except DBAPIError as exc:
            raise IntakeUnavailable(str(exc.orig or exc)) from exc

    async def _write_forever(self) -> None:
        assert self._queue is not None
        while True:
            batch = await self._collect()
            try:
                await self._commit_group(batch)
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def _collect(self) -> list[_Pending]:
        assert self._queue is not None
        batch = [await self._queue.get()]
        size = len(batch[0].items)
        deadline = time.monotonic() + self.max_delay
        # Submissions that queued up during the last commit are a batch already: waiting for
        # more would only idle the writer. The wait is for a quiet queue's first arrival.
        backlog = not self._queue.empty()
        while size < self.max_batch:
            if self._queue.empty():
                if backlog:
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                # One timer for the whole wait: a wait_for per arrival costs a task each.
                await asyncio.sleep(remaining)
                if self._queue.empty():
                    break
            pending = self._queue.get_nowait()
            batch.append(pending)
            size += len(pending.items)
        return batch

    async def _commit_group(self, batch: list[_Pending]) -> None:
        live = [p for p in batch if not p.future.done()]
        if not live:
            return
        try:
            results, outcome = await asyncio.to_thread(self._commit_with_retry, live)
        except Exception as exc:
            if _is_unavailable(exc):
                log.error("intake commit failed for %d submissions: %s", len(live), _why(exc))
                for pending in live:
                    _settle(pending, exc=IntakeUnavailable(_why(exc)))
                return
            if len(live) > 1:
                # One caller's bad item must not fail the others: halve the group until the
                # submission that fails is alone.
                half = len(live) // 2
                await self._commit_group(live[:half])
                await self._commit_group(live[half:])
                return
            await self._commit_apart(live[0], exc)
            return
        for pending, result in zip(live, results, strict=True):
            _settle(pending, result=result)
        self._follow(outcome)

    async def _commit_apart(self, pending: _Pending, failure: Exception) -> None:
        """One submission that cannot be committed whole: its items in parts, each one that
        still fails kept as an unreadable raw event with the reason."""
        log.warning(
            "intake: a submission of %d items failed, storing them apart: %s",
            len(pending.items),
            _why(failure),
            exc_info=failure if not isinstance(failure, DBAPIError) else None,
        )
        try:
            result, outcome = await asyncio.to_thread(self._write_apart, pending, failure)
        except Exception as exc:
            if not _is_unavailable(exc):
                log.exception("intake could not keep even the unreadable record")
            _settle(pending, exc=IntakeUnavailable(_why(exc)))
            return
        _settle(pending, result=result)
        self._follow(outcome)

    def _write_apart(
        self, pending: _Pending, failure: Exception
    ) -> tuple[IntakeResult, BatchOutcome]:
        stored, total = 0, BatchOutcome()
        parts: list[tuple[list[Inbound], Exception | None]] = [(list(pending.items), failure)]
        while parts:
            items, known = parts.pop()
            if not items:
                continue
            try:
                if known is not None:
                    raise known
                outcome = _retrying_conflicts(functools.partial(self._write, items, []))
            except Exception as exc:
                if _is_unavailable(exc):
                    raise
                if len(items) > 1:
                    half = len(items) // 2
                    parts += [(items[half:], None), (items[:half], None)]
                    continue
                log.warning(
                    "intake: item kept as unreadable: channel=%s external_id=%s: %s",
                    getattr(items[0], "channel", "?"),
                    getattr(items[0], "external_id", "?"),
                    _why(exc),
                )
                outcome = self._write([unstorable(items[0], f"not storable: {_why(exc)}")], [])
            stored += outcome.stored
            total.new_ticket_ids += outcome.new_ticket_ids
            total.changed_ticket_ids += outcome.changed_ticket_ids
            total.replies_queued += outcome.replies_queued
        if pending.cursor is not None:
            self._write([], [pending.cursor])
        duplicates = len(pending.items) - stored
        return IntakeResult(stored=stored, duplicates=max(duplicates, 0)), total

    def _follow(self, outcome: BatchOutcome) -> None:
        """After the commit: new tickets and tickets a message added to are assessed, and the
        outbox is woken for intake's own answers."""
        if outcome.replies_queued and self.on_replies_queued:
            self.on_replies_queued()
        new = outcome.new_ticket_ids
        changed = [t for t in dict.fromkeys(outcome.changed_ticket_ids) if t not in set(new)]
        for callback, tickets in ((self.on_new_tickets, new), (self.on_changed_tickets, changed)):
            if tickets and callback:
                follower = asyncio.create_task(callback(tickets))
                self._followers.add(follower)
                follower.add_done_callback(self._followers.discard)

    def _commit_with_retry(self, batch: list[_Pending]) -> tuple[list[IntakeResult], BatchOutcome]:
        return _retrying_conflicts(lambda: self._commit(batch))

    def _commit(self, batch: list[_Pending]) -> tuple[list[IntakeResult], BatchOutcome]:
        """All submissions of the group as one batch in one transaction."""
        items = [item for pending in batch for item in pending.items]
        cursors = [pending.cursor for pending in batch if pending.cursor]
        outcome = self._write(items, cursors)
        return _share_out(batch, outcome), outcome

    def _write(self, items: Sequence[Inbound], cursors: Sequence[Cursor]) -> BatchOutcome:
        """`items` and `cursors` in one transaction."""
        now = self.clock()
        with self.db.engine.connect().execution_options(kanal_write=True) as conn:
            with conn.begin():
                writer = BatchWriter(
                    conn,
                    prefix=self.prefix,
                    tz=self.tz,
                    now=now,
                    verify_due=self.verify_due,
                    replies=self.replies,
                )
                outcome = writer.write(items, cursors)
        self._count(items, cursors, outcome, now)
        return outcome

    def _count(
        self,
        items: Sequence[Inbound],
        cursors: Sequence[Cursor],
        outcome: BatchOutcome,
        now: datetime,
    ) -> None:
        """Committed: the batch's size, each message stored for the first time, the cursors."""
        for cursor in cursors:
            self.metrics.cursor_committed(cursor.channel, cursor.account, now)
        if not items:
            return  # a poller's cursor alone
        self.metrics.batch_size.observe(len(items))
        for item in items:
            if isinstance(item, InboundMessage) and item_key(item) in outcome.fresh_keys:
                delay = (now - item.sent_at).total_seconds()
                self.metrics.received_message(item.channel, delay)


def _retrying_conflicts(work: Callable[[], T]) -> T:
    # A unique conflict means another process stored the same delivery or took the same
    # reporter's ticket at the same moment: run the batch again, it will see their rows.
    for attempt in range(5):
        try:
            return work()
        except IntegrityError:
            if attempt == 4:
                raise
            log.info("intake conflict with a concurrent writer, retrying the batch")
    raise AssertionError("unreachable")


def _share_out(batch: list[_Pending], outcome: BatchOutcome) -> list[IntakeResult]:
    """Each submission's own count: an item is new for the first submission that carried it."""
    unclaimed = set(outcome.fresh_keys)
    results = []
    for pending in batch:
        keys = {item_key(item) for item in pending.items}
        stored = len(keys & unclaimed)
        unclaimed -= keys
        results.append(IntakeResult(stored=stored, duplicates=len(pending.items) - stored))
    return results


def _is_unavailable(exc: BaseException) -> bool:
    """The database could not be reached or used (down, restarting, locked): the caller's
    items are fine and worth sending again. Anything else is about the items themselves."""
    if not isinstance(exc, DBAPIError):
        return False
    return bool(exc.connection_invalidated) or exc.__class__.__name__ == "OperationalError"


def _why(exc: BaseException) -> str:
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    return f"{type(cause).__name__}: {cause}"[:2000]


def _settle(
    pending: _Pending, *, result: IntakeResult | None = None, exc: BaseException | None = None
) -> None:
    if pending.future.done():
        return
    if exc is not None:
        pending.future.set_exception(exc)
    else:
        assert result is not None
        pending.future.set_result(result)
