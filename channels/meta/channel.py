"""The Graph poller shared by Instagram and Facebook: DMs, comments and mentions into intake."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import aiohttp

from channels.base import (
    ChannelHealth,
    Cursor,
    FileCarriage,
    Inbound,
    IntakeSink,
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
from channels.meta.graph import GraphClient, GraphError, GraphTokenInvalid
from channels.meta.media import CdnDownload
from channels.meta.parse import (
    to_inbound,
)
from channels.meta.send import TEXTS as SEND_TEXTS
from channels.meta.send import WINDOW_CODE, is_direct, outside_window, send_request, sent_id
from channels.meta.webhook import MetaReceiver
from channels.polling import AccountHealth, Backoff, PollingHalted, PollLoop, PollState, PollWriter

log = logging.getLogger(__name__)



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
        self._sink: IntakeSink | None = None
        self.loop = PollLoop(
            self._poll,
            name=f"{self.name} polling of {account}",
            health=AccountHealth(self.name, account, lambda: self.health),
            interval=self.next_interval,
            backoff=Backoff(config.retry_initial.total_seconds(), config.retry_max.total_seconds()),
            clock=clock,
            logger=log,
        )
        self._resuming: asyncio.Task[None] | None = None

    @property
    def status(self) -> PollState:
        """What the poller is doing (channels.polling.PollState)."""
        return self.loop.state

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
        if self.loop.running:
            return
        # Downloads a stopped process left unfinished, while the CDN links may still work.
        since = self.clock() - MEDIA_RESUME
        self._resuming = asyncio.create_task(self.media.resume_pending(sink, since))
        self._sink = sink
        self._cursors.clear()  # read again from the database: what is committed is the truth
        await self.loop.start()
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
        if self._sink is not None:
            await self.loop.stop()
            self._sink = None
            log.info("%s poller stopped for %s", self.name, self.account)

    async def wait_stopped(self) -> None:
        """Return once the poll loop has ended by itself (e.g. the token stopped it)."""
        await self.loop.wait_ended()

    # --- the loop -----------------------------------------------------------------------------

    async def _poll(self) -> None:
        sink = self._sink
        assert sink is not None, "polled before start_polling()"
        try:
            await self.poll_once(sink)
        except GraphTokenInvalid as exc:
            raise PollingHalted(self._token_alert(exc)) from exc

    def next_interval(self) -> float:
        """The poll interval, stretched up to tenfold as Graph usage nears its limit."""
        base = self.config.poll_interval.total_seconds()
        usage = self.client.usage.percent
        if usage < self.config.slow_at:
            return base
        span = max(100.0 - self.config.slow_at, 1.0)
        return base * (1 + 9 * min((usage - self.config.slow_at) / span, 1.0))

    def _token_alert(self, exc: GraphError) -> str:
        label = self.platform.dialect.label
        return TOKEN_ALERT.format(label=label, account=self.account, error=exc, channel=self.name)

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

    def file_carriage_for(self, message: OutboundMessage) -> FileCarriage:
        """A DM takes files, each after the text; under a comment a second message is not
        allowed (one private reply), so files go as links in the reply's text."""
        return FileCarriage.EACH if is_direct(message) else FileCarriage.LINK

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
            self.loop.halted(self._token_alert(exc))
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
