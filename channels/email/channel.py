"""Email: IMAP polling in, SMTP replies out."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from channels.base import (
    ChannelHealth,
    Cursor,
    FileCarriage,
    InboundMessage,
    IntakeSink,
    IntakeUnavailable,
    OutboundMessage,
    Routes,
    SendResult,
)
from channels.email.budget import MailLimits
from channels.email.config import EmailConfig
from channels.email.imap import CONNECTION_ERRORS, FetchedMail, MailboxSession
from channels.email.intake import MailItems, store_batch, unreadable_mail
from channels.email.parse import ParseContext, parse_mail
from channels.email.smtp import SmtpSender, own_msgid_domain
from channels.polling import AccountHealth, Backoff, PollLoop

log = logging.getLogger("kanal.channels.email")
CHANNEL = "email"


@dataclass(frozen=True, slots=True)
class MailboxCursor:
    """`UIDVALIDITY:LASTUID`, the position of the poller in its folder."""

    uidvalidity: int
    last_uid: int

    @classmethod
    def parse(cls, value: str | None) -> MailboxCursor | None:
        try:
            validity, last = (value or "").split(":", 1)
            return cls(int(validity), int(last))
        except ValueError:
            return None

    def __str__(self) -> str:
        return f"{self.uidvalidity}:{self.last_uid}"


class EmailChannel:
    """One mailbox: polls a folder into the intake and sends replies by SMTP."""

    name = CHANNEL
    file_carriage = FileCarriage.TOGETHER  # the answer's files attached to its one mail

    def __init__(self, config: EmailConfig, data_dir: Path, clock: Callable[[], datetime]) -> None:
        self.config = config
        self.account = config.username
        self.health: ChannelHealth | None = None  # the notifier's, set by the runtime
        self.loop = PollLoop(
            self._poll,
            name=f"email polling of {config.username}/{config.folder}",
            health=AccountHealth(CHANNEL, config.username, lambda: self.health),
            interval=config.poll_interval.total_seconds,
            backoff=Backoff(config.retry_initial.total_seconds(), config.retry_max.total_seconds()),
            expected=(*CONNECTION_ERRORS, IntakeUnavailable),
            # The worker thread checks the stop flag at least every second, so stop() waits for
            # it rather than cancel: a cancelled to_thread keeps running on the shared connection.
            grace=config.imap_timeout.total_seconds() + 5,
            rest=self._wait_for_news,  # IMAP IDLE between two good polls
            logger=log,
        )
        self.polling = self.loop.state
        self._sink: IntakeSink | None = None
        own = {a.lower() for a in (config.from_address, config.username) if "@" in a}
        self._context = ParseContext(
            account=config.username,
            data_dir=data_dir,
            own_addresses=frozenset(own),
            own_msgid_domain=own_msgid_domain(config),
            clock=clock,
            limits=MailLimits(
                max_bytes=config.max_message_size,
                max_depth=config.max_mime_depth,
                max_parts=config.max_mime_parts,
                max_headers=config.max_header_fields,
            ),
        )
        self._sender = SmtpSender(config, clock)
        self._session = MailboxSession(
            host=config.imap_host,
            port=config.imap_port,
            tls=config.imap_tls,
            username=config.username,
            password=config.password.get_secret_value(),
            folder=config.folder,
            timeout=config.imap_timeout.total_seconds(),
        )
        self._stop = threading.Event()
        self._cursor: MailboxCursor | None = None
        self._cursor_loaded = False
        # Fetch failures, per UID: a mail the server or the client library chokes on is fetched
        # alone (`_suspect`), then kept as unreadable once it failed max_attempts times.
        self._suspect: int | None = None
        self._fetch_failures: dict[int, int] = {}
        self._unfetchable: dict[int, str] = {}

    def routes(self) -> Routes:
        return []

    async def start(self, sink: IntakeSink) -> None:
        self._sink = sink
        self._stop.clear()
        self._cursor_loaded = False
        await self.loop.start()
        log.info("email poller started for %s/%s", self.account, self.config.folder)

    async def stop(self) -> None:
        self._stop.set()
        await self.loop.stop()
        await asyncio.to_thread(self._session.close)
        log.info("email poller stopped for %s", self.account)

    async def send(self, message: OutboundMessage) -> SendResult:
        return await self._sender.send(message)

    async def _poll(self) -> None:
        sink = self._sink
        assert sink is not None, "polled before start()"
        try:
            await self._poll_once(sink)
        except Exception:  # the next try logs in afresh
            await asyncio.to_thread(self._session.drop)
            raise

    async def _wait_for_news(self, seconds: float) -> None:
        try:
            await asyncio.to_thread(self._session.wait_for_news, seconds, self._stop)
        except Exception:
            await asyncio.to_thread(self._session.drop)
            raise

    async def _poll_once(self, sink: IntakeSink) -> None:
        if not self._cursor_loaded:  # read here, so a database down at start-up is retried
            stored = await sink.read_cursor(CHANNEL, self.account, self.config.folder)
            self._cursor, self._cursor_loaded = MailboxCursor.parse(stored), True
            log.info("email poll of %s/%s resumes at %s", self.account, self.config.folder, stored)
        state = await asyncio.to_thread(self._session.select)
        cursor = self._cursor
        if cursor is None or cursor.uidvalidity != state.uidvalidity:
            if cursor is not None:
                log.warning(
                    "UIDVALIDITY of %s/%s changed from %s to %s: resynchronising by Message-ID",
                    self.account,
                    self.config.folder,
                    cursor.uidvalidity,
                    state.uidvalidity,
                )
            cursor = MailboxCursor(state.uidvalidity, 0)
        if state.uidnext is not None and state.uidnext <= cursor.last_uid + 1:
            self._cursor = cursor
            return
        uids = await asyncio.to_thread(self._session.uids_after, cursor.last_uid)
        folder, validity = self.config.folder, state.uidvalidity

        def cursor_at(uid: int) -> Cursor:
            return Cursor(CHANNEL, self.account, folder, str(MailboxCursor(validity, uid)))

        while uids:
            batch, uids = self._next_batch(uids)
            fetched = await self._fetch(batch)
            mails = await asyncio.to_thread(self._parse_all, fetched, validity)
            where = f"{self.account}/{folder}"
            await store_batch(sink, mails, cursor_at, batch[-1], self.config.max_attempts, where)
            self._cursor = cursor = MailboxCursor(validity, batch[-1])
            if self.config.mark_seen and fetched:
                await asyncio.to_thread(self._session.mark_seen, [m.uid for m in fetched])
        self._cursor = cursor

    def _next_batch(self, uids: list[int]) -> tuple[list[int], list[int]]:
        size = max(1, self.config.batch_size)
        if self._suspect is not None:
            if uids[0] > self._suspect:
                self._suspect = None
            else:
                size = 1  # a batch failed to fetch here: find the mail that did it
        return uids[:size], uids[size:]

    async def _fetch(self, batch: list[int]) -> list[FetchedMail]:
        wanted = [uid for uid in batch if uid not in self._unfetchable]
        try:
            limit = self.config.max_message_size
            fetched = await asyncio.to_thread(self._session.fetch, wanted, limit) if wanted else []
        except Exception as exc:  # the connection, or a reply the client library cannot read
            self._note_fetch_failure(batch, exc)
            raise
        for mail in fetched:
            self._fetch_failures.pop(mail.uid, None)
        kept = [
            FetchedMail(uid, b"", None, problem=self._unfetchable.pop(uid))
            for uid in batch
            if uid in self._unfetchable
        ]
        return sorted([*fetched, *kept], key=lambda mail: mail.uid)

    def _note_fetch_failure(self, batch: list[int], exc: BaseException) -> None:
        if len(batch) > 1:
            self._suspect = batch[-1]
            return
        uid = batch[0]
        count = self._fetch_failures[uid] = self._fetch_failures.get(uid, 0) + 1
        if count >= self.config.max_attempts:
            del self._fetch_failures[uid]
            reason = f"could not be fetched after {count} attempts: {type(exc).__name__}: {exc}"
            self._unfetchable[uid] = reason  # kept as unreadable on the next, fresh connection
            log.error(
                "email uid %s of %s/%s %s; it is kept as unreadable and stays in the mailbox",
                uid, self.account, self.config.folder, reason,
            )

    def _parse_all(self, fetched: list[FetchedMail], uidvalidity: int) -> list[MailItems]:
        return [self._parse_one(mail, uidvalidity) for mail in fetched]

    def _parse_one(self, mail: FetchedMail, uidvalidity: int) -> MailItems:
        folder, received = self.config.folder, _aware(mail.internal_date)

        def unreadable(reason: str) -> InboundMessage:
            return unreadable_mail(
                account=self.account, folder=folder, uidvalidity=uidvalidity, uid=mail.uid,
                sent_at=received or self._context.clock(), reason=reason,
            )

        extra = {"folder": folder, "uidvalidity": uidvalidity, "uid": mail.uid, "size": mail.size}
        limit = self.config.max_message_size
        too_large = (
            f"mail of {mail.size or 0:,} bytes is larger than the limit of {limit:,} bytes"
            if mail.headers_only
            else None
        )
        if mail.problem:
            return MailItems(mail.uid, [unreadable(mail.problem)], unreadable)
        try:
            items = parse_mail(
                mail.raw, self._context, received_at=received, extra=extra, headers_only=too_large
            )
        except Exception as exc:  # parse_mail never raises; the mail is kept whatever happens
            items = [unreadable(f"{type(exc).__name__}: {exc}")]
        for item in items:
            if isinstance(item, InboundMessage) and item.parse_error:
                log.warning(
                    "email %s (uid %s) of %s read with problems: %s",
                    item.external_id, mail.uid, self.account, item.parse_error,
                )
        return MailItems(mail.uid, items, unreadable)


def _aware(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.astimezone()  # imapclient gives local naive time unless normalised
