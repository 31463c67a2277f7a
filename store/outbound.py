"""Replies sent on one channel, newest first: what the demo outbox page lists for the simulated
channel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from store.models import Message, Reporter, Ticket


@dataclass(frozen=True, slots=True)
class SentReply:
    ticket_number: str
    recipient: str  # the reporter's name, else their contact
    text: str
    author: str | None
    sent_at: datetime
    delivery_state: str | None
    error_message: str | None


def replies_on(session: Session, channel: str, *, limit: int = 100) -> list[SentReply]:
    rows = session.exec(
        select(Message, Ticket.number, Reporter.display_name, Reporter.contact)
        .join(Ticket, col(Ticket.id) == col(Message.ticket_id))
        .join(Reporter, col(Reporter.id) == col(Ticket.reporter_id))
        .where(Message.channel == channel, Message.direction == "out")
        .order_by(col(Message.sent_at).desc(), col(Message.id).desc())
        .limit(limit)
    ).all()
    return [
        SentReply(
            ticket_number=number,
            recipient=name or contact or "",
            text=message.text,
            author=message.author,
            sent_at=message.sent_at,
            delivery_state=message.delivery_state,
            error_message=message.error_message,
        )
        for message, number, name, contact in rows
    ]
