"""Messages to reporters: written with the action that caused them, sent later, exactly once.

`enqueue` adds an outbound message and its outbox row inside the caller's transaction. The
worker claims due rows (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so several processes share the
work), records the attempt before calling the platform, then records the outcome.
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlmodel import Session, col, select

from channels.base import (
    Channel,
    Choice,
    DeliveryState,
    OutboundFile,
    OutboundMessage,
    PlatformError,
    carriage_of,
)
from observability.context import bound
from observability.metrics import Metrics
from store.db import Database
from store.flags import AnswerFile
from store.models import Attachment, DeliveryReceipt, Message, OutboxItem, Reporter, Ticket
from triage import auto_replies
from triage.delivery import moves_forward
from triage.outbox_parts import LinkMaker, parts, stored_files

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
# A row left in `sending` this long belongs to a process that died mid-call: try it again,
# with the same idempotency key.
SENDING_LEASE = timedelta(minutes=5)


def backoff(attempt: int, spread: float | None = None) -> timedelta:
    """30 s, 1 min, 2 min, ... capped at one hour; each up to a fifth sooner at random (`spread`, 0
    to 1), so that what failed together in an outage is not all tried again at once."""
    spread = random.random() if spread is None else spread
    return timedelta(seconds=min(3600, 30 * 2 ** max(0, attempt - 1)) * (1 - spread / 5))


def enqueue(
    session: Session,
    ticket: Ticket,
    text: str,
    *,
    author: str,
    now: datetime,
    options: dict | None = None,
    automatic: bool = False,
    choices: tuple[Choice, ...] = (),
    files: Sequence[AnswerFile] = (),
) -> Message:
    """Add a reply to the ticket's reporter on the channel they used; sent after commit.

    `automatic` marks a text Kanal wrote rather than one an operator typed; `choices` are
    answers offered as buttons where the channel has them. `files` (already stored) become the
    message's attachments, which the worker sends with it.
    """
    reporter = session.get(Reporter, ticket.reporter_id)
    assert reporter is not None
    key = uuid.uuid4().hex
    last_in = session.exec(
        select(Message)
        .where(Message.ticket_id == ticket.id, Message.direction == "in")
        .order_by(col(Message.sent_at).desc(), col(Message.id).desc())
    ).first()
    message = Message(
        ticket_id=ticket.id or 0,
        direction="out",
        channel=ticket.channel,
        account=ticket.account,
        external_id=f"kanal-{key}",
        sender_id=None,
        author=author,
        text=text,
        subject=last_in.subject if last_in else None,
        reply_to=last_in.external_id if last_in else None,
        references=(list(last_in.references) if last_in else []),
        sent_at=now,
        received_at=now,
        delivery_state=DeliveryState.QUEUED.value,
    )
    session.add(message)
    session.flush()
    for position, stored in enumerate(files):
        session.add(
            Attachment(
                message_id=message.id or 0,
                position=position,
                kind=stored.kind,
                mime_type=stored.mime_type,
                size=stored.size,
                file_name=stored.name,
                sha256=stored.sha256,
                stored_path=stored.path,
                fetch_state="stored",
            )
        )
    session.add(
        OutboxItem(
            message_id=message.id or 0,
            channel=ticket.channel,
            idempotency_key=key,
            payload={
                "recipient_id": reporter.sender_id,
                "recipient_contact": reporter.contact,
                "ticket_number": ticket.number,
                "options": options or {},
                "automatic": automatic,
                "choices": [{"id": c.id, "title": c.title} for c in choices],
            },
            next_attempt_at=now,
            created_at=now,
        )
    )
    ticket.message_count += 1
    ticket.last_activity_at = now
    session.add(ticket)
    return message


@dataclass(frozen=True, slots=True)
class Claimed:
    outbox_id: int
    message_id: int
    outbound: OutboundMessage
    files: tuple[tuple[int, OutboundFile], ...] = ()  # (attachment id, file), in order
    parts_sent: int = 0  # of a message sent in several calls (outbox_parts), those done
    first_platform_id: str | None = None  # the platform's id for the first part


class OutboxWorker:
    """Sends due outbox rows through the channel each was written for."""

    def __init__(
        self,
        db: Database,
        channels: Mapping[str, Channel],
        clock: Callable[[], datetime],
        *,
        idle_interval: float = 1.0,
        batch: int = 20,
        metrics: Metrics | None = None,
        data_dir: Path | None = None,
        file_link: LinkMaker | None = None,
        locale: str = "id",
    ) -> None:
        self.db = db
        self.data_dir = data_dir  # where the files of outbound messages are stored
        self.file_link = file_link  # for channels that take no files
        self.locale = locale
        self.metrics = metrics or Metrics()
        self.channels = channels
        self.clock = clock
        self.idle_interval = idle_interval
        self.batch = batch
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def wake(self) -> None:
        """Called (from any thread) after an action committed a reply, so it goes out now."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.create_task(self._run(), name="outbox-worker")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    async def _run(self) -> None:
        failing = False
        while True:
            try:
                sent = await self.run_once()
                if failing:
                    log.info("outbox: database reachable again")
                failing = False
            except Exception:  # logged once per outage; the loop must go on
                if not failing:
                    log.exception("outbox: cannot reach the database; will keep trying")
                failing = True
                sent = 0
            if sent == 0:
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), self.idle_interval)
                except TimeoutError:
                    pass

    async def run_once(self) -> int:
        """Claim and send what is due now; returns how many rows were handled."""
        claimed = await asyncio.to_thread(self._claim)
        for item in claimed:
            await self._send(item)
        return len(claimed)

    async def _send(self, item: Claimed) -> None:
        outbound = item.outbound
        with bound(ticket=outbound.ticket_number, channel=outbound.channel):
            await self._send_bound(item)

    async def _send_bound(self, item: Claimed) -> None:
        channel = self.channels.get(item.outbound.channel)
        if channel is None:
            error = PlatformError(
                f"channel {item.outbound.channel} is not enabled", retryable=True, code="disabled"
            )
            await self._failed(item, error)
            return
        if item.outbound.account != channel.account:
            # The report came to an account this Kanal no longer (or never) serves, such as
            # the sample reports of `main.py simulate`: never send from another account.
            error = PlatformError(
                f"the report came to {item.outbound.channel} account {item.outbound.account}, "
                f"which this Kanal does not serve (it serves {channel.account})",
                retryable=False,
                code="foreign_account",
            )
            await self._failed(item, error)
            return
        carriage = carriage_of(channel, item.outbound)
        sends = parts(item.outbound, item.files, carriage, self.file_link, self.locale)
        first_id = item.first_platform_id
        for number, part in enumerate(sends):
            if number < item.parts_sent:
                continue  # sent before a crash or a failed later part
            try:
                result = await channel.send(part)
            except PlatformError as error:
                log.warning(
                    "outbox: send failed channel=%s account=%s outbox_id=%s part=%d code=%s "
                    "retryable=%s: %s",
                    item.outbound.channel,
                    item.outbound.account,
                    item.outbox_id,
                    number,
                    error.code,
                    error.retryable,
                    error,
                )
                await self._failed(item, error)
                return
            first_id = first_id or result.platform_message_id
            if number < len(sends) - 1:
                await asyncio.to_thread(self._record_part, item, number + 1, first_id)
        assert first_id is not None
        await asyncio.to_thread(self._record_sent, item, first_id)
        self.metrics.sent(item.outbound.channel)

    async def _failed(self, item: Claimed, error: PlatformError) -> None:
        retry = await asyncio.to_thread(self._record_failure, item, error)
        self.metrics.send_failed(item.outbound.channel, final=not retry)

    def _claim(self) -> list[Claimed]:
        now = self.clock()
        with self.db.write() as session:
            query = (
                select(OutboxItem)
                .where(
                    ((OutboxItem.state == "pending") & (col(OutboxItem.next_attempt_at) <= now))
                    | (
                        (OutboxItem.state == "sending")
                        & (col(OutboxItem.next_attempt_at) <= now - SENDING_LEASE)
                    )
                )
                .order_by(col(OutboxItem.next_attempt_at), col(OutboxItem.id))
                .limit(self.batch)
            )
            if not self.db.is_sqlite:
                query = query.with_for_update(skip_locked=True)
            rows = list(session.exec(query).all())
            claimed = []
            for row in rows:
                # The attempt is recorded before the platform is called: a crash after the
                # call leaves `sending`, never a silent second send.
                row.state = "sending"
                row.attempts += 1
                row.next_attempt_at = now
                session.add(row)
                if row.message_id is None:  # an automatic answer outside any ticket
                    outbound = auto_replies.outbound(row.channel, row.idempotency_key, row.payload)
                    claimed.append(Claimed(row.id or 0, 0, outbound))
                    continue
                message = session.get(Message, row.message_id)
                assert message is not None
                message.delivery_state = DeliveryState.SENDING.value
                session.add(message)
                claimed.append(
                    Claimed(
                        row.id or 0,
                        message.id or 0,
                        self._outbound(session, row, message),
                        stored_files(session, message, self.data_dir),
                        int(row.payload.get("parts_sent", 0)),
                        row.payload.get("first_platform_id"),
                    )
                )
            return claimed

    def _record_part(self, item: Claimed, parts_sent: int, first_id: str) -> None:
        """One more part of a message sent in several calls is out: a retry starts after it."""
        with self.db.write() as session:
            row = session.get(OutboxItem, item.outbox_id)
            assert row is not None
            row.payload = {**row.payload, "parts_sent": parts_sent, "first_platform_id": first_id}
            session.add(row)

    def _outbound(self, session: Session, row: OutboxItem, message: Message) -> OutboundMessage:
        last_inbound_at = session.exec(
            select(Message.sent_at)
            .where(
                Message.ticket_id == message.ticket_id,
                Message.direction == "in",
                Message.channel == message.channel,
            )
            .order_by(col(Message.sent_at).desc())
            .limit(1)
        ).first()
        payload = row.payload
        return OutboundMessage(
            channel=message.channel,
            account=message.account,
            recipient_id=payload["recipient_id"],
            recipient_contact=payload.get("recipient_contact"),
            text=message.text,
            idempotency_key=row.idempotency_key,
            reply_to=message.reply_to,
            references=tuple(message.references),
            subject=message.subject,
            ticket_number=payload.get("ticket_number"),
            last_inbound_at=last_inbound_at,
            options=payload.get("options", {}),
            automatic=bool(payload.get("automatic", False)),
            choices=tuple(Choice(c["id"], c["title"]) for c in payload.get("choices", ())),
        )

    def _record_sent(self, item: Claimed, platform_id: str) -> None:
        now = self.clock()
        with self.db.write() as session:
            row = session.get(OutboxItem, item.outbox_id)
            assert row is not None
            row.state, row.sent_at, row.last_error, row.error_code = "sent", now, None, None
            session.add(row)
            message = session.get(Message, item.message_id) if item.message_id else None
            if message is None:
                return
            message.platform_message_id = platform_id
            message.delivery_state = DeliveryState.SENT.value
            message.error_code = message.error_message = None
            # Receipts that arrived before this record (platforms answer fast) apply now.
            for receipt in session.exec(
                select(DeliveryReceipt)
                .where(
                    DeliveryReceipt.channel == message.channel,
                    DeliveryReceipt.platform_message_id == platform_id,
                )
                .order_by(col(DeliveryReceipt.id))
            ):
                if moves_forward(message.delivery_state, receipt.state):
                    message.delivery_state = receipt.state
                    if receipt.state == DeliveryState.FAILED.value:
                        message.error_code = receipt.error_code
                        message.error_message = receipt.error_message
            session.add(message)

    def _record_failure(self, item: Claimed, error: PlatformError) -> bool:
        """Records the failed attempt; True if the reply will be tried again."""
        now = self.clock()
        with self.db.write() as session:
            row = session.get(OutboxItem, item.outbox_id)
            assert row is not None
            row.last_error, row.error_code = str(error), error.code
            retry = error.retryable and row.attempts < MAX_ATTEMPTS
            if retry:
                wait = backoff(row.attempts)
                if error.retry_after:
                    wait = max(wait, timedelta(seconds=error.retry_after))
                row.state, row.next_attempt_at = "pending", now + wait
            else:
                row.state = "failed"
            session.add(row)
            message = session.get(Message, item.message_id) if item.message_id else None
            if message is not None:  # an automatic answer has none
                message.error_code, message.error_message = error.code, str(error)
                state = DeliveryState.QUEUED if retry else DeliveryState.FAILED
                message.delivery_state = state.value
                session.add(message)
        return retry
