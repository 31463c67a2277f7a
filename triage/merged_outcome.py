"""The reporters of tickets merged into another hear how that ticket ended.

When the surviving ticket is resolved, rejected or closed, each merged ticket's reporter gets
the outcome on their own channel, through the outbox, in the same transaction as the action.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from store.models import Ticket
from triage import messages
from triage.outbox import enqueue
from triage.states import Resolution, Status


def tell_merged(
    session: Session,
    survivor: Ticket,
    *,
    locale: str,
    region: str,
    author: str,
    now: datetime,
) -> list[str]:
    """Queue the outcome of `survivor`, now final, to the reporters of the tickets merged into
    it; returns their numbers."""
    merged = session.exec(
        select(Ticket)
        .where(
            Ticket.merged_into == survivor.number,
            Ticket.resolution == Resolution.DUPLICATE.value,
        )
        .order_by(col(Ticket.id))
    ).all()
    key = "merged.resolved" if survivor.status == Status.RESOLVED.value else "merged.closed"
    for ticket in merged:
        text = messages.render(
            key, locale, number=ticket.number, original=survivor.number, region=region
        )
        enqueue(session, ticket, text, author=author, now=now, automatic=True)
    return [ticket.number for ticket in merged]
