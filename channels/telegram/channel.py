"""Telegram: a bot polled with getUpdates (or called by webhook) in, replies out."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import warnings
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web
from telegram import Bot, ReplyParameters
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.request import HTTPXRequest
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type

from channels.base import (
    Cursor,
    FileCarriage,
    IntakeSink,
    IntakeUnavailable,
    OutboundMessage,
    PlatformError,
    Routes,
    SendResult,
)
from channels.media_fetch import MediaFetcher
from channels.polling import AccountHealth, Backoff, PollLoop, PollWriter
from channels.telegram.config import TelegramConfig
from channels.telegram.files import send_file
from channels.telegram.media import TelegramDownload, retry_seconds
from channels.telegram.parse import CHANNEL, message_ref, parse_updates
from channels.webhook import read_bounded

log = logging.getLogger("kanal.channels.telegram")
MEDIA_RESUME = timedelta(days=7)

WEBHOOK_PATH = "/webhooks/telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
CURSOR_NAME = "updates"
ALLOWED_UPDATES = ["message", "edited_message"]
MAX_TEXT = 4096


class TelegramChannel:
    """One bot: getUpdates or the webhook in, sendMessage out, files fetched in the background."""

    name = CHANNEL
    file_carriage = FileCarriage.EACH

    def __init__(
        self, config: TelegramConfig, data_dir: Path, clock: Callable[[], datetime]
    ) -> None:
        self.config = config
        token = config.bot_token.get_secret_value()
        self.account = token.split(":", 1)[0]  # the bot's own user id
        self.clock = clock
        # Set by the runtime before start() (channels.base.ChannelHealth): told when the bot
        # stops working (token refused, Telegram unreachable) and when it works again.
        self.health: Any = None
        interval = config.poll_interval.total_seconds()
        self.loop = PollLoop(
            self._poll,
            name=f"telegram polling of bot {self.account}",
            health=AccountHealth(CHANNEL, self.account, lambda: self.health),
            interval=lambda: interval,
            backoff=Backoff(interval or 1.0, config.retry_max.total_seconds()),
            expected=(TelegramError, IntakeUnavailable),
            retry_after=lambda exc: retry_seconds(exc) if isinstance(exc, RetryAfter) else None,
            # A poll races its long poll against `stopping`; storing a batch is let finish.
            grace=config.long_poll.total_seconds() + 5,
            logger=log,
        )
        self.polling = self.loop.state
        self._offset: int | None = None  # read from the database by the first poll
        self._webhook_cleared = False
        self._bot: Bot | None = None
        self._bot_lock = asyncio.Lock()
        self._sink: IntakeSink | None = None
        self._task: asyncio.Task[None] | None = None
        self._resuming: asyncio.Task[None] | None = None
        self.writer = PollWriter(CHANNEL, self.account)
        self.media = MediaFetcher(
            CHANNEL, self.account, TelegramDownload(self.bot), data_dir,
            max_bytes=config.max_media_bytes,
        )

    def __repr__(self) -> str:
        return f"TelegramChannel(account={self.account!r}, mode={self.config.mode!r})"

    async def bot(self) -> Bot:
        """The initialized Bot (getMe done), made on first use so a start offline is retried."""
        async with self._bot_lock:
            if self._bot is None:
                base = self.config.api_base.rstrip("/")
                timeout = self.config.request_timeout.total_seconds()
                bot = Bot(
                    self.config.bot_token.get_secret_value(),
                    base_url=f"{base}/bot",
                    base_file_url=f"{base}/file/bot",
                    request=HTTPXRequest(read_timeout=timeout, connect_timeout=timeout),
                    get_updates_request=HTTPXRequest(read_timeout=timeout, connect_timeout=timeout),
                )
                await bot.initialize()
                self._bot = bot
            return self._bot

    def routes(self) -> Routes:
        if self.config.mode == "webhook":
            return [web.post(WEBHOOK_PATH, self.receive)]
        return []

    async def start(self, sink: IntakeSink) -> None:
        self._sink = sink
        # Downloads a stopped process left unfinished (platform file ids outlive a restart).
        self._resuming = asyncio.create_task(
            self.media.resume_pending(sink, self.clock() - MEDIA_RESUME)
        )
        if self.config.mode == "polling":
            self._offset, self._webhook_cleared = None, False
            await self.loop.start()
        elif self.config.webhook_url:
            self._task = asyncio.create_task(self._register(), name=f"telegram-{self.account}")
        log.info("telegram bot %s started (%s)", self.account, self.config.mode)

    async def stop(self) -> None:
        await self.loop.stop()
        if self._task is not None:  # setWebhook still being retried
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._resuming is not None:
            await asyncio.gather(self._resuming, return_exceptions=True)
        await self.media.close()
        if self._bot is not None:
            await self._bot.shutdown()
            self._bot = None
        self._sink = None

    # --- polling ------------------------------------------------------------------------------

    async def _poll(self) -> None:
        sink = self._sink
        assert sink is not None, "polled before start()"
        bot = await self.bot()
        if not self._webhook_cleared:  # getUpdates answers 409 while a webhook is set
            self._webhook_cleared = await bot.delete_webhook(drop_pending_updates=False)
        if self._offset is None:  # read here, so a database down at start-up is retried
            stored = await sink.read_cursor(CHANNEL, self.account, CURSOR_NAME)
            self._offset = int(stored) if stored else 0
            log.info("telegram bot %s resumes at offset %s", self.account, self._offset)
        self._offset = await self._poll_once(bot, sink, self._offset)

    async def _poll_once(self, bot: Bot, sink: IntakeSink, offset: int) -> int:
        long_poll = int(self.config.long_poll.total_seconds())
        fetch = asyncio.ensure_future(
            bot.get_updates(
                offset=offset or None, timeout=long_poll, allowed_updates=ALLOWED_UPDATES
            )
        )
        stopping = asyncio.ensure_future(self.loop.stopping.wait())
        await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not fetch.done():
            # Stopping during a long poll: nothing was read yet, so the request may just go.
            fetch.cancel()
            await asyncio.gather(fetch, return_exceptions=True)
            return offset
        try:
            raw = [update.to_dict() for update in fetch.result()]
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            # PTB could not read an update (a date that is no number, ...): the same offset
            # would fail forever, so read the batch as plain JSON; our parser keeps odd ones.
            log.warning("telegram bot %s: PTB could not read updates (%r); read as JSON",
                        self.account, exc)
            raw = await _plain_updates(bot, offset)
        ids = [u["update_id"] for u in raw if isinstance(u.get("update_id"), int)]
        if not ids:
            return offset
        next_offset = max(ids) + 1
        cursor = Cursor(CHANNEL, self.account, CURSOR_NAME, str(next_offset))
        await self._handle(sink, raw, cursor)
        return next_offset

    # --- webhook ------------------------------------------------------------------------------

    async def _register(self) -> None:
        """Point Telegram at our webhook; retried with the poll loop's back-off until it works
        or stop() cancels it (setWebhook may simply be sent again)."""
        retrying = AsyncRetrying(
            wait=Backoff(1.0, self.config.retry_max.total_seconds()).strategy(),
            retry=retry_if_exception_type(TelegramError),
            before_sleep=_log_register_retry,
        )
        await retrying(self._set_webhook)

    async def _set_webhook(self) -> None:
        bot = await self.bot()
        await bot.set_webhook(
            self.config.webhook_url,
            secret_token=self.config.secret_token.get_secret_value(),
            allowed_updates=ALLOWED_UPDATES,
        )
        log.info("telegram webhook of bot %s set to %s", self.account, self.config.webhook_url)

    async def receive(self, request: web.Request) -> web.Response:
        """One update; 200 only once it is committed, so Telegram repeats it otherwise."""
        expected = self.config.secret_token.get_secret_value().encode()
        # aiohttp keeps undecodable header bytes (0xFF) as surrogates, which UTF-8 refuses.
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "replace")
        if not expected or not hmac.compare_digest(given, expected):
            log.warning("telegram webhook with a missing or wrong secret token from %s",
                        request.remote)
            return web.Response(status=401, text="bad secret token")
        body = await read_bounded(request, self.config.max_body_bytes)
        if body is None:
            return web.Response(status=413, text="body too large")
        sink = self._sink
        if sink is None:
            return web.Response(status=503, text="not started")
        try:
            update = json.loads(body)
        except (ValueError, RecursionError):  # kept as sent, with the reason, by the parser
            update = {"payload": body.decode("utf-8", "replace")}
        try:
            await self._handle(sink, [update], None)
        except IntakeUnavailable as exc:
            log.warning("telegram webhook not stored, intake unavailable: %s", exc)
            return web.Response(status=503, text="intake unavailable")
        return web.Response(text="ok")

    # --- shared: intake, greetings, sending -----------------------------------------------------

    async def _handle(self, sink: IntakeSink, updates: list[Any], cursor: Cursor | None) -> None:
        parsed = parse_updates(updates, self.account, self.clock())
        if cursor is None:  # a webhook delivery: refused as a whole, Telegram sends it again
            if (await sink.submit(parsed.items, None)).stored:
                self.media.schedule(sink, parsed.items)
        else:  # polled: one unstorable update must not hold the offset back
            stored = await self.writer.submit(sink, parsed.items, cursor)
            if stored.result.stored:
                self.media.schedule(sink, stored.items)
        # The /start greeting rides on its update (AutoReply): the outbox sends it once.

    async def send(self, message: OutboundMessage) -> SendResult:
        """The text, or one file (the outbox sends a message's files one by one after it)."""
        if len(message.text) > MAX_TEXT:
            raise PlatformError(
                f"reply longer than {MAX_TEXT} characters", retryable=False, code="too_long"
            )
        chat_id = message.recipient_id
        reply = _replied_message_id(message.reply_to, chat_id)
        parameters = ReplyParameters(reply, allow_sending_without_reply=True) if reply else None
        try:
            bot = await self.bot()
            if message.files:
                sent = await send_file(bot, chat_id, message.files[0], parameters)
            else:
                sent = await bot.send_message(chat_id, message.text, reply_parameters=parameters)
        except RetryAfter as exc:
            raise PlatformError(str(exc), retryable=True, code="429",
                                retry_after=retry_seconds(exc)) from exc
        except Forbidden as exc:  # the user blocked the bot, or deleted their account
            raise PlatformError(f"Telegram refused: {exc}", retryable=False, code="403") from exc
        except (BadRequest, ChatMigrated) as exc:  # chat not found, moved, text refused
            raise PlatformError(f"Telegram refused: {exc}", retryable=False, code="400") from exc
        except InvalidToken as exc:
            raise PlatformError(f"Telegram bot token refused: {exc}", retryable=False,
                                code="401") from exc
        except (NetworkError, TelegramError) as exc:  # timeouts, 5xx, connection trouble
            raise PlatformError(f"Telegram unreachable: {exc}", retryable=True) from exc
        except (KeyError, TypeError, ValueError) as exc:
            # Telegram took the message but its answer could not be read: sending again could
            # repeat it, so the operator decides.
            raise PlatformError(
                f"Telegram's answer could not be read; the reply may have been delivered: {exc!r}",
                retryable=False, code="unreadable_answer",
            ) from exc
        return SendResult(message_ref(sent.chat_id, sent.message_id))


def _log_register_retry(retry_state: RetryCallState) -> None:
    exc = retry_state.outcome.exception() if retry_state.outcome else None
    wait = retry_state.upcoming_sleep
    log.warning("telegram setWebhook failed, retrying in %.0fs: %s", wait, exc)


async def _plain_updates(bot: Bot, offset: int) -> list[dict[str, Any]]:
    """getUpdates answered as plain dicts, without PTB's reading of each update."""
    params: dict[str, Any] = {"timeout": 0, "allowed_updates": ALLOWED_UPDATES}
    if offset:
        params["offset"] = offset
    with warnings.catch_warnings():  # PTB asks to prefer get_updates, which is what failed
        warnings.simplefilter("ignore")
        result = await bot.do_api_request("get_updates", api_kwargs=params)
    return [u for u in result if isinstance(u, dict)] if isinstance(result, list) else []


def _replied_message_id(reply_to: str | None, chat_id: str) -> int | None:
    """The message id inside `chat:message` when it belongs to the chat we answer."""
    chat, _, message_id = (reply_to or "").rpartition(":")
    return int(message_id) if chat == chat_id and message_id.isdigit() else None

