"""The figures a metrics scrape reads from the database: open tickets, overdue clocks, outbox.

Each query starts from an index whose first column is the state (`ix_tickets_status_activity`,
`ix_outbox_due`), so it reads the open tickets and the waiting replies, never the history of
closed tickets and sent replies, however long that grows.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from store.deadlines import CLOCKS
from store.models import OutboxItem, Ticket
from store.statuses import OPEN

# Outbox rows not yet sent nor given up: waiting for their turn, or being sent right now.
WAITING = ("pending", "sending")


def open_by_status(session: Session) -> dict[str, int]:
    """Open tickets per status, every open status present (0 when none)."""
    rows = session.exec(
        select(Ticket.status, func.count())
        .where(col(Ticket.status).in_(OPEN))
        .group_by(Ticket.status)
    ).all()
    found = dict.fromkeys(OPEN, 0)
    found.update({status: count for status, count in rows})
    return found


def overdue_by_clock(session: Session, now: datetime) -> dict[str, int]:
    """Open tickets whose clock ran out, per clock (the same rules the sweeps escalate by)."""
    found = {}
    for clock, (column, states) in CLOCKS.items():
        due = getattr(Ticket, column)
        found[clock] = session.exec(
            select(func.count()).where(col(Ticket.status).in_(states), col(due) < now)
        ).one()
    return found


def outbox_backlog(session: Session) -> dict[tuple[str, str], int]:
    """Replies waiting to go out, per (channel, state)."""
    rows = session.exec(
        select(OutboxItem.channel, OutboxItem.state, func.count())
        .where(col(OutboxItem.state).in_(WAITING))
        .group_by(OutboxItem.channel, OutboxItem.state)
    ).all()
    return {(channel, state): count for channel, state, count in rows}
