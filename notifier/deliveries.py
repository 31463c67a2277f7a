"""The staff notification queue: add a rendered notification once (by key), send due ones with
retries, several processes sharing the work like the reporters' outbox (triage/outbox.py)."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, or_, select

from notifier.senders import DeliveryError, Sender
from store.db import Database
from store.models import Notification

log = logging.getLogger(__name__)

# A row left in `sending` this long belongs to a process that died mid-call: send it again.
SENDING_LEASE = timedelta(minutes=5)


def backoff(attempt: int, spread: float | None = None) -> timedelta:
    """1 min, 2 min, 4 min, ... capped at one hour; each up to a fifth sooner at random (`spread`, 0
    to 1), so that what failed together in an outage is not all tried again at once."""
    spread = random.random() if spread is None else spread
    return timedelta(seconds=min(3600, 60 * 2 ** max(0, attempt - 1)) * (1 - spread / 5))


@dataclass(frozen=True)
class Draft:
    """A notification to add: who, where, and the rendered content."""

    key: str
    kind: str
    recipient: str
    channel: str
    address: str
    subject: str
    payload: dict[str, Any]


def add(session: Session, draft: Draft, now: datetime) -> bool:
    """Add the notification unless one with its key exists; True when added."""
    exists = session.exec(select(Notification.id).where(Notification.key == draft.key)).first()
    if exists is not None:
        return False
    session.add(
        Notification(
            key=draft.key,
            kind=draft.kind,
            recipient=draft.recipient,
            channel=draft.channel,
            address=draft.address,
            subject=draft.subject,
            payload=draft.payload,
            next_attempt_at=now,
            created_at=now,
        )
    )
    return True


class Deliverer:
    def __init__(
        self,
        db: Database,
        senders: Mapping[str, Sender],
        clock: Callable[[], datetime],
        *,
        max_attempts: int = 6,
    ) -> None:
        self.db = db
        self.senders = senders
        self.clock = clock
        self.max_attempts = max_attempts

    async def send_due(self) -> int:
        """Send every due notification, one at a time; returns how many were sent."""
        sent = 0
        while True:
            claimed = await asyncio.to_thread(self._claim)
            if claimed is None:
                return sent
            error = await self._send(claimed)
            await asyncio.to_thread(self._record, claimed, error)
            sent += error is None

    def _claim(self) -> Notification | None:
        """Take the next due row and mark it `sending` (attempt counted before the call)."""
        now = self.clock()
        with self.db.write() as session:
            query = (
                select(Notification)
                .where(
                    or_(
                        (col(Notification.state) == "pending")
                        & (col(Notification.next_attempt_at) <= now),
                        (col(Notification.state) == "sending")
                        & (col(Notification.next_attempt_at) <= now - SENDING_LEASE),
                    ),
                    col(Notification.channel).in_(list(self.senders)),
                )
                .order_by(col(Notification.next_attempt_at), col(Notification.id))
                .limit(1)
            )
            if not self.db.is_sqlite:
                query = query.with_for_update(skip_locked=True)
            row = session.exec(query).first()
            if row is None:
                return None
            row.state = "sending"
            row.attempts += 1
            row.next_attempt_at = now
            session.add(row)
            return row

    async def _send(self, row: Notification) -> DeliveryError | None:
        sender = self.senders[row.channel]
        try:
            await sender.send(row.key, row.address, row.subject, row.payload, self.clock())
        except DeliveryError as exc:
            return exc
        return None

    def _record(self, row: Notification, error: DeliveryError | None) -> None:
        now = self.clock()
        with self.db.write() as session:
            current = session.get(Notification, row.id)
            if current is None:
                return
            if error is None:
                current.state, current.sent_at, current.last_error = "sent", now, None
                log.info("notification %s sent to %s by %s", row.key, row.recipient, row.channel)
            elif error.retryable and current.attempts < self.max_attempts:
                wait = backoff(current.attempts)
                if error.retry_after:
                    wait = max(wait, timedelta(seconds=error.retry_after))
                current.state, current.next_attempt_at = "pending", now + wait
                current.last_error = str(error)
                log.warning(
                    "notification %s to %s by %s failed (attempt %d), retry at %s: %s",
                    row.key,
                    row.recipient,
                    row.channel,
                    current.attempts,
                    current.next_attempt_at.isoformat(),
                    error,
                )
            else:
                current.state, current.last_error = "failed", str(error)
                log.error(
                    "notification %s to %s by %s given up after %d attempt(s): %s",
                    row.key,
                    row.recipient,
                    row.channel,
                    current.attempts,
                    error,
                )
            session.add(current)
