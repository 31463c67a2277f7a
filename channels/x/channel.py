"""X (Twitter): mentions and DMs polled in, replies out as a reply tweet or a DM."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from channels.base import (
    Cursor,
    Inbound,
    IntakeSink,
    OutboundMessage,
    PlatformError,
    Routes,
    SendResult,
)
from channels.media_fetch import MediaFetcher
from channels.polling import AccountHealth, Backoff, PollLoop, PollState, PollWriter
from channels.x.api import Credentials, XApi
from channels.x.config import XConfig
from channels.x.media import XPhotoDownload
from channels.x.parse import (
    CHANNEL,
    DM_EVENT_FIELDS,
    DM_EXPANSIONS,
    DM_PREFIX,
    MEDIA_FIELDS,
    TWEET_EXPANSIONS,
    TWEET_FIELDS,
    USER_FIELDS,
    parse_dm_page,
    parse_mentions_page,
)

log = logging.getLogger("kanal.channels.x")
MEDIA_RESUME = timedelta(days=7)

MAX_TWEET_CHARS = 280
# Replies to a mention are kept below 800 reachable mentions by X anyway; a runaway paginator
# (a fake or a bug answering next_token forever) stops here.
MAX_PAGES = 20
_SNOWFLAKE_EPOCH_MS = 1288834974657


@dataclass(slots=True)
class XPolling:
    """What each source's poll loop last did, for health checks and tests."""

    sources: dict[str, PollState] = field(default_factory=dict)


class XChannel:
    """One X account: a poller per source (mentions, DMs) and the sender of replies."""

    name = CHANNEL

    def __init__(
        self,
        config: XConfig,
        data_dir: Path,
        http: aiohttp.ClientSession,
        clock: Callable[[], datetime],
    ) -> None:
        self.config = config
        self.account = config.user_id
        self.clock = clock
        self.api = XApi(
            Credentials(
                config.bearer_token.get_secret_value(),
                config.consumer_key.get_secret_value(),
                config.consumer_secret.get_secret_value(),
                config.access_token.get_secret_value(),
                config.access_token_secret.get_secret_value(),
            ),
            config.api_base,
            config.request_timeout.total_seconds(),
            clock,
        )
        self._resuming: asyncio.Task[None] | None = None
        self.writer = PollWriter(CHANNEL, self.account)
        self.media = MediaFetcher(
            CHANNEL, self.account,
            XPhotoDownload(
                http, timeout=config.request_timeout.total_seconds(),
                media_hosts=config.media_hosts, api_base=config.api_base,
            ),
            data_dir,
            max_bytes=config.max_media_bytes,
        )
        # Set by the runtime before start() (channels.base.ChannelHealth): told when the
        # account stops working and when it works again.
        self.health: Any = None
        self._sink: IntakeSink | None = None
        # A loop per source: a rate-limited source waits for its reset while the other goes on.
        account_health = AccountHealth(CHANNEL, self.account, lambda: self.health)
        self.loops = {source: self._loop(source, account_health) for source in config.sources}
        self.polling = XPolling({source: loop.state for source, loop in self.loops.items()})

    def __repr__(self) -> str:
        return f"XChannel(account={self.account!r}, api_base={self.config.api_base!r})"

    def routes(self) -> Routes:
        return []

    def _loop(self, source: str, health: AccountHealth) -> PollLoop:
        async def poll() -> None:
            sink = self._sink
            assert sink is not None, "polled before start()"
            if source == "mentions":
                await self._poll_mentions(sink)
            else:
                await self._poll_dms(sink)

        interval = self.config.poll_interval.total_seconds()
        return PollLoop(
            poll,
            name=f"x polling of {source} for {self.account}",
            health=health,
            part=source,
            interval=lambda: interval,
            backoff=Backoff(interval, self.config.retry_max.total_seconds()),
            # A poll in a worker thread finishes within the request timeout; a cancelled
            # to_thread would leave it running, so stop() waits that long for it.
            grace=self.config.request_timeout.total_seconds() + 5,
            # Waits are measured on the channel's clock, as X's rate-limit resets are.
            clock=self.clock,
            tick=interval,
            logger=log,
        )

    async def start(self, sink: IntakeSink) -> None:
        self._sink = sink
        # Downloads a stopped process left unfinished (platform file ids outlive a restart).
        self._resuming = asyncio.create_task(
            self.media.resume_pending(sink, self.clock() - MEDIA_RESUME)
        )
        for loop in self.loops.values():
            await loop.start()
        log.info("x poller started for %s (%s)", self.account, ", ".join(self.config.sources))

    async def stop(self) -> None:
        await asyncio.gather(*(loop.stop() for loop in self.loops.values()))
        if self._resuming is not None:
            await asyncio.gather(self._resuming, return_exceptions=True)
        await self.media.close()
        self.api.close()
        log.info("x poller stopped for %s", self.account)

    # --- polling ------------------------------------------------------------------------------

    async def _poll_mentions(self, sink: IntakeSink) -> None:
        since_id = await sink.read_cursor(CHANNEL, self.account, "mentions")
        params: dict[str, Any] = {
            "id": self.account,
            "max_results": self.config.page_size,
            "tweet_fields": TWEET_FIELDS,
            "expansions": TWEET_EXPANSIONS,
            "user_fields": USER_FIELDS,
            "media_fields": MEDIA_FIELDS,
            "user_auth": self.api.mentions_user_auth,
        }
        if since_id:
            params["since_id"] = since_id
        else:
            params["start_time"] = self.clock() - self.config.lookback
        pages = await self._pages("mentions", self.api.client.get_users_mentions, params)
        newest = _newest_id(
            [(p.get("meta") or {}).get("newest_id") for p in pages]
            + [str(t.get("id")) for p in pages for t in p.get("data") or [] if isinstance(t, dict)]
        )
        if newest is None:
            return  # nothing new: the cursor stays where it is
        items = [
            item for page in pages
            for item in parse_mentions_page(page, self.account, self.clock())
        ]
        await self._submit(sink, items, Cursor(CHANNEL, self.account, "mentions", newest))

    async def _poll_dms(self, sink: IntakeSink) -> None:
        last = await sink.read_cursor(CHANNEL, self.account, "dms")
        params: dict[str, Any] = {
            "max_results": self.config.page_size,
            "dm_event_fields": DM_EVENT_FIELDS,
            "expansions": DM_EXPANSIONS,
            "user_fields": USER_FIELDS,
            "media_fields": MEDIA_FIELDS,
            "event_types": "MessageCreate",
        }
        # DM lookup has no since_id: read newest first, stop at the first event already seen
        # (or, on the first poll, older than the lookback; snowflake ids carry their time).
        stop_after = last or _snowflake_at(self.clock() - self.config.lookback)
        pages = await self._pages(
            "dms", self.api.client.get_direct_message_events, params, stop_after=stop_after
        )
        events = [e for p in pages for e in p.get("data") or [] if isinstance(e, dict)]
        fresh = [e for e in events if _after(e.get("id"), stop_after)]
        newest = _newest_id([str(e.get("id")) for e in events if _after(e.get("id"), last)])
        if newest is None:
            return
        page = {"data": fresh, "includes": _merged_includes(pages)}
        items = parse_dm_page(page, self.account, self.clock())
        await self._submit(sink, items, Cursor(CHANNEL, self.account, "dms", newest))

    async def _pages(
        self, endpoint: str, method: Callable[..., Any], params: dict[str, Any],
        stop_after: str | None = None,
    ) -> list[dict[str, Any]]:
        pages: list[dict[str, Any]] = []
        token: str | None = None
        for _ in range(MAX_PAGES):
            call = dict(params, pagination_token=token) if token else params
            page = await self.api.call(endpoint, method, **call)
            page = page if isinstance(page, dict) else {}
            pages.append(page)
            token = (page.get("meta") or {}).get("next_token")
            ids = [str(e.get("id")) for e in page.get("data") or [] if isinstance(e, dict)]
            if not token or (stop_after and any(not _after(i, stop_after) for i in ids)):
                break
        return pages

    async def _submit(self, sink: IntakeSink, items: list[Inbound], cursor: Cursor) -> None:
        # One unstorable item is kept as unreadable (or skipped): the cursor never sticks on it.
        stored = await self.writer.submit(sink, items, cursor)
        result = stored.result
        log.debug("x %s: %d stored, %d seen before", cursor.name, result.stored, result.duplicates)
        if result.stored:
            self.media.schedule(sink, stored.items)

    # --- sending ------------------------------------------------------------------------------

    async def send(self, message: OutboundMessage) -> SendResult:
        """A reply tweet under the reporter's last tweet, or a DM (options["mode"])."""
        mode = message.options.get("mode") or self.config.reply_mode
        if mode == "auto":
            mode = "dm" if (message.reply_to or "").startswith(DM_PREFIX) else "reply"
        if mode == "dm":
            # The id becomes a URL path segment (/2/dm_conversations/with/{id}/messages).
            if not message.recipient_id.isascii() or not message.recipient_id.isdigit():
                raise PlatformError(
                    f"refused DM recipient {message.recipient_id[:40]!r}: not a numeric X id",
                    retryable=False, code="bad_id",
                )
            body = await self.api.call(
                "dm_send", self.api.client.create_direct_message,
                participant_id=message.recipient_id, text=message.text,
            )
            event_id = (body.get("data") or {}).get("dm_event_id")
            if not event_id:
                raise PlatformError("X accepted the DM without an event id", retryable=False)
            return SendResult(DM_PREFIX + str(event_id))
        if mode != "reply":
            raise PlatformError(f"unknown X reply mode {mode!r}", retryable=False, code="mode")
        tweet_id = message.reply_to or ""
        if not tweet_id.isdigit():
            raise PlatformError(
                "no tweet of the reporter to reply under; send it as a DM",
                retryable=False, code="no_tweet",
            )
        if len(message.text) > MAX_TWEET_CHARS:
            raise PlatformError(
                f"reply longer than {MAX_TWEET_CHARS} characters; shorten it or send it as a DM",
                retryable=False, code="too_long",
            )
        body = await self.api.call(
            "tweet", self.api.client.create_tweet,
            text=message.text, in_reply_to_tweet_id=tweet_id, user_auth=True,
        )
        new_id = (body.get("data") or {}).get("id")
        if not new_id:
            raise PlatformError("X accepted the tweet without an id", retryable=False)
        return SendResult(str(new_id))


def _after(event_id: Any, last: str | None) -> bool:
    """Snowflake ids grow with time: compare them as numbers."""
    if not last:
        return True
    try:
        return int(str(event_id)) > int(last)
    except ValueError:
        return False


def _snowflake_at(when: datetime) -> str:
    """The smallest snowflake id made at `when` (X's epoch is 2010-11-04T01:42:54.657Z)."""
    return str(max(int(when.timestamp() * 1000) - _SNOWFLAKE_EPOCH_MS, 0) << 22)


def _newest_id(ids: list[Any]) -> str | None:
    numeric = [int(i) for i in ids if isinstance(i, str) and i.isdigit()]
    return str(max(numeric)) if numeric else None


def _merged_includes(pages: list[dict[str, Any]]) -> dict[str, list[Any]]:
    merged: dict[str, list[Any]] = {}
    for page in pages:
        for key, values in (page.get("includes") or {}).items():
            if isinstance(values, list):
                merged.setdefault(key, []).extend(values)
    return merged
