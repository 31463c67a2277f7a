"""Reading tickets for the inbox and the API: filtered, paginated by cursor, with conversation."""

from __future__ import annotations

import base64
import binascii
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, and_, literal, tuple_
from sqlmodel import Session, col, select

from store import search
from store.models import Attachment, Message, Reporter, Ticket, TicketEvent, UTCDateTime
from store.statuses import WITH_OPERATORS
from store.text import is_storable

MAX_PAGE = 200
MAX_ID = 2**63 - 1  # a BIGINT; SQLite's INTEGER holds the same


class BadCursor(ValueError):
    """A pagination cursor that this server did not hand out."""


@dataclass(frozen=True, slots=True)
class TicketFilter:
    status: str | None = None
    channel: str | None = None
    q: str | None = None
    opd: str | None = None  # an OPD user sees only its own tickets
    limit: int = 50
    cursor: str | None = None


def forwarded_to(opd: str) -> ColumnElement[bool]:
    """Tickets currently forwarded to `opd`: forwarding sets `opd` and `opd_due_at`; verifying
    and reopening clear `opd_due_at` (triage/actions.py), so a ticket handed back to the
    operators leaves the OPD's sight until it is forwarded again."""
    return and_(
        Ticket.opd == opd,
        col(Ticket.opd_due_at).is_not(None),
        col(Ticket.status).not_in(WITH_OPERATORS),
    )


def is_forwarded_to(ticket: Ticket, opd: str | None) -> bool:
    """`forwarded_to` for one loaded ticket."""
    return (
        opd is not None
        and ticket.opd == opd
        and ticket.opd_due_at is not None
        and ticket.status not in WITH_OPERATORS
    )


def encode_cursor(ticket: Ticket | ListedTicket) -> str:
    raw = f"{ticket.last_activity_at.isoformat()}|{ticket.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """The position `encode_cursor` wrote; anything else (a naive or unrepresentable time, an
    id no column holds) is BadCursor, never a database error."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        when, ticket_id = raw.rsplit("|", 1)
        moment, number = datetime.fromisoformat(when), int(ticket_id)
        if moment.tzinfo is None or not 0 < number <= MAX_ID:
            raise ValueError(raw)
        moment.astimezone(UTC)  # the store keeps UTC: 0001-01-01T00:00+01:00 has none
        return moment, number
    except (binascii.Error, UnicodeDecodeError, ValueError, OverflowError) as exc:
        raise BadCursor("cursor is not one this server handed out") from exc


class ReporterRef(NamedTuple):
    """Who sent a listed ticket: the reporter's columns a list shows."""

    display_name: str | None
    contact: str | None
    sender_id: str


class ListedTicket(NamedTuple):
    """A ticket as a list shows it: the Ticket columns of the same names."""

    id: int
    number: str
    status: str
    resolution: str | None
    channel: str
    summary: str
    category: str | None
    opd: str | None
    verified_at: datetime | None
    answered: bool
    merged_into: str | None
    flags: dict[str, Any]
    created_at: datetime
    last_activity_at: datetime
    verify_due_at: datetime | None
    clarification_due_at: datetime | None
    opd_due_at: datetime | None
    due_at: datetime | None
    message_count: int
    assignee_id: int | None
    assigned_at: datetime | None


# What the API's list reads: these columns, never whole entities. Building an ORM Ticket and
# Reporter for each of 200 rows a page was most of a cursor walk's time.
_LISTED = tuple(getattr(Ticket, name) for name in ListedTicket._fields)
_LISTED_REPORTER = tuple(getattr(Reporter, name) for name in ReporterRef._fields)


def list_tickets(
    session: Session, wanted: TicketFilter
) -> tuple[list[tuple[ListedTicket, ReporterRef]], str | None]:
    """One page, newest activity first, and the cursor of the next page (None on the last)."""
    limit = max(1, min(wanted.limit, MAX_PAGE))
    query = select(*_LISTED, *_LISTED_REPORTER).join(
        Reporter, col(Reporter.id) == Ticket.reporter_id
    )
    if wanted.status:
        query = query.where(Ticket.status == wanted.status)
    if wanted.channel:
        query = query.where(Ticket.channel == wanted.channel)
    if wanted.opd:
        query = query.where(forwarded_to(wanted.opd))
    if wanted.q and wanted.q.strip():
        found = search_hits(session, wanted.q)
        query = query.join(found, found.c.ticket_id == Ticket.id)
    if wanted.cursor:
        when, ticket_id = decode_cursor(wanted.cursor)
        # A row value, not an OR of two comparisons: both databases read it as one range of
        # ix_tickets_activity, so page 1,000 costs what page 1 does.
        position = tuple_(col(Ticket.last_activity_at), col(Ticket.id))
        query = query.where(position < tuple_(literal(when, UTCDateTime()), literal(ticket_id)))
    query = query.order_by(col(Ticket.last_activity_at).desc(), col(Ticket.id).desc())
    split = len(_LISTED)
    rows = [
        (ListedTicket(*row[:split]), ReporterRef(*row[split:]))
        for row in session.exec(query.limit(limit + 1)).all()
    ]
    next_cursor = encode_cursor(rows[limit - 1][0]) if len(rows) > limit else None
    return rows[:limit], next_cursor


def search_hits(session: Session, q: str) -> Any:
    """The (ticket_id, score) subquery of `store.search` for this session's database."""
    return search.hits(q, session.get_bind().dialect.name, recent_from=search.recent_bound(session))


def get_ticket(session: Session, number: str) -> tuple[Ticket, Reporter] | None:
    if not is_storable(number):  # no ticket number holds a NUL (PostgreSQL would refuse it)
        return None
    row = session.exec(
        select(Ticket, Reporter)
        .join(Reporter, col(Reporter.id) == Ticket.reporter_id)
        .where(Ticket.number == number.upper())
    ).first()
    return (row[0], row[1]) if row else None


def conversation(session: Session, ticket_id: int) -> list[tuple[Message, list[Attachment]]]:
    """Every message of a ticket in time order, each with its attachments."""
    messages = session.exec(
        select(Message)
        .where(Message.ticket_id == ticket_id)
        .order_by(col(Message.sent_at), col(Message.id))
    ).all()
    attachments: dict[int, list[Attachment]] = defaultdict(list)
    ids = [m.id for m in messages]
    if ids:
        for attachment in session.exec(
            select(Attachment)
            .where(col(Attachment.message_id).in_(ids))
            .order_by(col(Attachment.position))
        ):
            attachments[attachment.message_id].append(attachment)
    return [(m, attachments[m.id or 0]) for m in messages]


def audit_trail(session: Session, ticket_id: int) -> list[TicketEvent]:
    return list(
        session.exec(
            select(TicketEvent)
            .where(TicketEvent.ticket_id == ticket_id)
            .order_by(col(TicketEvent.id))
        ).all()
    )


HISTORY_LIMIT = 20


def reporter_history(
    session: Session, ticket: Ticket, limit: int = HISTORY_LIMIT, *, opd: str | None = None
) -> list[Ticket]:
    """The reporter's other tickets, newest first: what they reported before and since; with
    `opd`, only those currently forwarded to it."""
    query = select(Ticket).where(Ticket.reporter_id == ticket.reporter_id, Ticket.id != ticket.id)
    if opd is not None:
        query = query.where(forwarded_to(opd))
    return list(
        session.exec(
            query.order_by(col(Ticket.created_at).desc(), col(Ticket.id).desc()).limit(limit)
        ).all()
    )
