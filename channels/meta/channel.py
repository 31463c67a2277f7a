"""The Graph poller shared by Instagram and Facebook: DMs, comments and mentions into intake."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import aiohttp

from channels.base import (
    ChannelHealth,
    Cursor,
    Inbound,
    IntakeSink,
    IntakeUnavailable,
    MessageUpdate,
    OutboundMessage,
    PlatformError,
    Routes,
    SendResult,
    UpdateKind,
)
from channels.media_fetch import MediaFetcher
from channels.meta.config import MetaConfig
from channels.meta.cursor import Change, SourceCursor, batches
from channels.meta.fetch import GraphReader, Platform
from channels.meta.graph import (
    GraphClient,
    GraphError,
    GraphThrottled,
    GraphTokenInvalid,
)
from channels.meta.media import CdnDownload
from channels.meta.parse import (
    to_inbound,
)
from channels.meta.send import TEXTS as SEND_TEXTS
from channels.meta.send import WINDOW_CODE, outside_window, send_request, sent_id
from channels.meta.webhook import MetaReceiver
from channels.polling import PollWriter

log = logging.getLogger(__name__)



@dataclass(slots=True)
class PollStatus:
    """What the poller is doing: `state` is ok, failing, throttled, stopped (needs the
    operator: see `alert`) or idle (not started)."""

    state: str = "idle"
    alert: str | None = None
    last_error: str | None = None
    completed_polls: int = 0
    consecutive_failures: int = 0
    throttled_until: datetime | None = None
    usage_percent: float = 0.0


MEDIA_RESUME = timedelta(days=3)  # Graph's signed CDN links expire within days
TOKEN_ALERT = (
    "{label} channel (account {account}) stopped: the page access token has expired or was "
    "revoked ({error}). Generate a new Page access token, set channels.{channel}.access_token, "
    "and restart Kanal."
)


class MetaChannel:
    """One Instagram or Facebook account: polls its sources, downloads media, sends replies."""

    name: str

    def __init__(
        self,
        config: MetaConfig,
        platform: Platform,
        *,
        account: str,
        own_ids: frozenset[str],
        data_dir: Path,
        http: aiohttp.ClientSession,
        clock: Callable[[], datetime],
    ) -> None:
        self.config = config
        self.platform = platform
        self.name = platform.dialect.channel
        self.account = account
        self.own_ids = own_ids
        self.clock = clock
        self.status = PollStatus()
        self.health: ChannelHealth | None = None  # the notifier's, set by the runtime
        self.client = GraphClient(
            api_base=config.api_base,
            access_token=config.access_token,
            http=http,
            timeout=config.request_timeout.total_seconds(),
            slow_at=config.slow_at,
            pause=config.request_pause.total_seconds(),
        )
        self.reader = GraphReader(
            self.client,
            platform,
            page_id=config.page_id,
            max_pages=config.max_pages,
            recent_posts=config.recent_posts,
            clock=clock,
        )
        self.media = MediaFetcher(
            self.name,
            account,
            CdnDownload(
                http,
                timeout=config.request_timeout.total_seconds(),
                media_hosts=config.media_hosts,
                api_base=config.api_base,
            ),
            data_dir,
            max_bytes=config.max_media_bytes,
            retry_delay=5.0,
        )
        self.receiver = MetaReceiver(
            dialect=platform.dialect,
            account=account,
            own_ids=own_ids,
            app_secret=config.app_secret,
            verify_token=config.verify_token,
            max_body_bytes=config.max_body_bytes,
            clock=clock,
            on_stored=self.media.schedule,
        )
        self._cursors: dict[str, SourceCursor] = {}
        self.writer = PollWriter(self.name, account)
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._resuming: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(account={self.account!r}, api_base={self.config.api_base!r})"

    def routes(self) -> Routes:
        webhook = self.config.app_secret.get_secret_value() and self.config.verify_token
        return self.receiver.routes() if webhook else []

    async def listen(self, sink: IntakeSink) -> None:
        """The webhook half: every process serving the app takes deliveries."""
        self.receiver.sink = sink

    async def start(self, sink: IntakeSink) -> None:
        await self.listen(sink)
        await self.start_polling(sink)

    async def start_polling(self, sink: IntakeSink) -> None:
        """The poller half: one process at a time (the runtime holds leadership for it)."""
        if self._task is not None and not self._task.done():
            return
        # Downloads a stopped process left unfinished, while the CDN links may still work.
        since = self.clock() - MEDIA_RESUME
        self._resuming = asyncio.create_task(self.media.resume_pending(sink, since))
        self._stopping.clear()
        self._cursors.clear()  # read again from the database: what is committed is the truth
        self._task = asyncio.create_task(self._run(sink), name=f"{self.name}-poll-{self.account}")
        log.info(
            "%s poller started for %s (%s)", self.name, self.account, ", ".join(self.config.sources)
        )

    async def stop(self) -> None:
        self.receiver.sink = None
        await self.stop_polling()
        await self.media.close()

    async def stop_polling(self) -> None:
        if self._resuming is not None:
            await asyncio.gather(self._resuming, return_exceptions=True)
            self._resuming = None
        self._stopping.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
            log.info("%s poller stopped for %s", self.name, self.account)

    async def wait_stopped(self) -> None:
        """Return once the poll loop has ended by itself (e.g. the token stopped it)."""
        if self._task is not None:
            await asyncio.shield(self._task)

    # --- the loop -----------------------------------------------------------------------------

    async def _run(self, sink: IntakeSink) -> None:
        delay = self.config.retry_initial.total_seconds()
        while not self._stopping.is_set():
            try:
                await self.poll_once(sink)
            except GraphTokenInvalid as exc:
                self._token_dead(exc)
                return
            except GraphThrottled as exc:
                wait = self._throttled(exc)
            except (GraphError, IntakeUnavailable) as exc:
                wait = delay * random.uniform(0.8, 1.2)
                delay = min(delay * 2, self.config.retry_max.total_seconds())
                self._note_failure(exc)
            except Exception as exc:  # the poller must outlive a bug; nothing is skipped
                wait = delay
                delay = min(delay * 2, self.config.retry_max.total_seconds())
                self._note_failure(exc, unexpected=True)
            else:
                delay = self.config.retry_initial.total_seconds()
                self._note_success()
                wait = self.next_interval()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=wait)

    def next_interval(self) -> float:
        """The poll interval, stretched up to tenfold as Graph usage nears its limit."""
        base = self.config.poll_interval.total_seconds()
        usage = self.client.usage.percent
        if usage < self.config.slow_at:
            return base
        span = max(100.0 - self.config.slow_at, 1.0)
        return base * (1 + 9 * min((usage - self.config.slow_at) / span, 1.0))

    def _token_dead(self, exc: GraphError) -> None:
        label = self.platform.dialect.label
        alert = TOKEN_ALERT.format(label=label, account=self.account, error=exc, channel=self.name)
        self.status.state, self.status.alert, self.status.last_error = "stopped", alert, str(exc)
        log.error("%s", alert)
        if self.health is not None:
            self.health.failing(self.name, self.account, alert)

    def _throttled(self, exc: GraphThrottled) -> float:
        wait = exc.retry_after or self.config.retry_max.total_seconds()
        self.status.state = "throttled"
        self.status.throttled_until = self.clock() + timedelta(seconds=wait)
        self.status.last_error = str(exc)
        log.warning(
            "%s polling of %s throttled by Graph (code %s): pausing until %s",
            self.name,
            self.account,
            exc.code,
            self.status.throttled_until.isoformat(),
        )
        return wait

    def _note_failure(self, exc: BaseException, *, unexpected: bool = False) -> None:
        self.status.last_error = f"{type(exc).__name__}: {exc}"
        self.status.consecutive_failures += 1
        if self.status.state != "failing":
            self.status.state = "failing"
            log.warning(
                "%s polling of %s is failing, retrying with back-off: %s",
                self.name,
                self.account,
                self.status.last_error,
                exc_info=exc if unexpected else None,
            )
        if self.health is not None:
            self.health.failing(self.name, self.account, self.status.last_error)

    def _note_success(self) -> None:
        if self.status.state in ("failing", "throttled"):
            log.info("%s polling of %s recovered", self.name, self.account)
        self.status.state = "ok"
        self.status.completed_polls += 1
        self.status.consecutive_failures = 0
        self.status.throttled_until = None
        self.status.usage_percent = self.client.usage.percent
        if self.health is not None:
            self.health.working(self.name, self.account)

    # --- one poll -----------------------------------------------------------------------------

    async def poll_once(self, sink: IntakeSink) -> None:
        """Read every configured source once, committing what is new with its cursor."""
        for source in self.config.sources:
            await self._poll_source(sink, source)

    async def _poll_source(self, sink: IntakeSink, source: str) -> None:
        cursor = self._cursors.get(source)
        if cursor is None:
            stored = await sink.read_cursor(self.name, self.account, source)
            cursor = SourceCursor.load(stored, self.clock() - self.config.lookback)
        recheck = self.config.recheck if source == "comments" else timedelta(0)
        floor = cursor.floor(recheck)
        complete: set[str] = set()
        if source == "messages":
            items = await self.reader.messages(floor)
        elif source == "comments":
            items = await self.reader.comments(floor, complete)
        else:
            items = await self.reader.mentions(floor)
        changes = cursor.changes(
            items,
            recheck=recheck,
            track_edits=source == "comments",
            complete_scopes=frozenset(complete),
        )
        for chunk in batches(changes, self.config.batch_size):
            inbound = [self._inbound(change) for change in chunk]
            advanced = cursor.advanced(chunk, recheck)
            # One unstorable item is kept as unreadable (or skipped): the cursor moves past it.
            stored = await self.writer.submit(
                sink, inbound, Cursor(self.name, self.account, source, advanced.dump())
            )
            cursor = advanced
            self._cursors[source] = cursor
            if stored.result.stored:
                self.media.schedule(sink, stored.items)
        self._cursors[source] = cursor

    def _inbound(self, change: Change) -> Inbound:
        dialect = self.platform.dialect
        if change.kind == "new" and change.item is not None:
            return to_inbound(
                change.item, account=self.account, own_ids=self.own_ids, dialect=dialect
            )
        item = change.item
        kind = UpdateKind.EDIT if change.kind == "edit" else UpdateKind.DELETE
        suffix = f"edit:{item.digest}" if item is not None else "delete"
        return MessageUpdate(
            channel=self.name,
            account=self.account,
            external_id=f"{change.external_id}:{suffix}",
            target_external_id=change.external_id,
            kind=kind,
            sender_id=(item.sender_id if item is not None else None) or "",
            sent_at=self.clock(),
            text=item.text if item is not None else "",
            raw=item.raw if item is not None else {"deleted": change.external_id},
        )

    # --- sending ------------------------------------------------------------------------------

    async def send(self, message: OutboundMessage) -> SendResult:
        dialect = self.platform.dialect
        request = send_request(
            message,
            self.clock(),
            page_id=self.config.page_id,
            label=dialect.label,
            reply_edge=self.platform.reply_edge,
            default_mode=self.config.comment_reply,
            human_agent=self.config.human_agent_tag,
        )
        try:
            path = await self._reply_path(request.path)
            body = await self.client.post(path, request.payload)
        except GraphTokenInvalid as exc:
            self._token_dead(exc)
            raise
        except GraphError as exc:
            if outside_window(exc):
                text = SEND_TEXTS["outside_window"].format(label=dialect.label, hours=24)
                raise PlatformError(f"{text} ({exc})", retryable=False, code=WINDOW_CODE) from exc
            raise
        return SendResult(platform_message_id=sent_id(body, dialect.label))

    async def _reply_path(self, path: str) -> str:
        """Where a public reply goes: on Instagram, under the top-level comment of a thread."""
        node, _, edge = path.partition("/")
        if not self.platform.top_level_replies or edge != self.platform.reply_edge:
            return path
        comment = await self.client.get(node, {"fields": "id,parent_id"})
        return f"{comment.get('parent_id') or node}/{edge}"
