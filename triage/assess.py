"""Flags on tickets (category suggestions, jurisdiction, likely duplicate, missing facts),
computed right after intake commits a new ticket, and again after it commits a later message of
the reporter's to one, off the intake's hot path.

One assessment runs at a time and takes every ticket that arrived meanwhile, so a burst of new
reports costs one read of the open tickets, not one per report, and never starves intake.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, bindparam, select, update

from store.db import Database
from store.flags import PlaceEvidence, SuggestedCategory, TicketFlags, merged
from store.models import Attachment, Message, Ticket
from triage.duplicates import Candidates, OpenTicket, ReportFacts
from triage.hints import Hinter, ReportHints
from triage.learning import ModelCache
from triage.states import OPEN_STATES

log = logging.getLogger(__name__)

MAX_CANDIDATES = 300  # open tickets compared for duplicates, newest first
BATCH = 200
TICKETS = Ticket.__table__
MESSAGES = Message.__table__
ATTACHMENTS = Attachment.__table__
Point = tuple[float, float]  # (latitude, longitude)

_OPEN = [s.value for s in OPEN_STATES]
_INBOUND = (
    MESSAGES.c.ticket_id,
    MESSAGES.c.id,
    MESSAGES.c.subject,
    MESSAGES.c.text,
    MESSAGES.c.latitude,
    MESSAGES.c.longitude,
)
_LATEST_FIRST = (MESSAGES.c.sent_at.desc(), MESSAGES.c.id.desc())

# Built once, with their values bound at each call: building an IN clause of 300 ids costs more
# than running the query.
_REPORTS = (
    select(*_INBOUND, TICKETS.c.number, TICKETS.c.created_at)
    .join_from(MESSAGES, TICKETS, TICKETS.c.id == MESSAGES.c.ticket_id)
    .where(
        MESSAGES.c.ticket_id.in_(bindparam("ticket_ids", expanding=True)),
        MESSAGES.c.direction == "in",
    )
    .order_by(*_LATEST_FIRST)
)
_OPEN_SINCE = (
    select(TICKETS.c.id, TICKETS.c.number, TICKETS.c.created_at, TICKETS.c.summary)
    .where(TICKETS.c.status.in_(_OPEN), TICKETS.c.created_at >= bindparam("since"))
    .order_by(TICKETS.c.created_at.desc())
    .limit(MAX_CANDIDATES)
)
# The candidates' messages, picked by the candidates' own filter from the oldest of them on
# rather than by their ids: the same rows, and a few more when tickets tie at the limit.
_INBOUND_OF_OPEN = (
    select(*_INBOUND)
    .where(
        MESSAGES.c.ticket_id.in_(
            select(TICKETS.c.id).where(
                TICKETS.c.status.in_(_OPEN), TICKETS.c.created_at >= bindparam("oldest")
            )
        ),
        MESSAGES.c.direction == "in",
    )
    .order_by(*_LATEST_FIRST)
)
_ATTACHMENT_KINDS = select(ATTACHMENTS.c.message_id, ATTACHMENTS.c.kind).where(
    ATTACHMENTS.c.message_id.in_(bindparam("message_ids", expanding=True))
)
_FLAGS = (
    select(TICKETS.c.id, TICKETS.c.flags)
    .where(TICKETS.c.id.in_(bindparam("ticket_ids", expanding=True)))
    .order_by(TICKETS.c.id)
)
_FLAGS_LOCKED = _FLAGS.with_for_update()
_SET_FLAGS = (
    update(TICKETS).where(TICKETS.c.id == bindparam("ticket_id")).values(flags=bindparam("merged"))
)


def flags_of(hints: ReportHints) -> TicketFlags:
    """The hints as kept on the ticket and shown to operators (every assessment key is set,
    so a new assessment replaces the last one whole)."""
    place = hints.jurisdiction
    duplicate = hints.duplicate
    return TicketFlags(
        suggestions=[
            SuggestedCategory(
                category=s.category,
                opd=s.opd,
                score=round(s.score, 3),
                matched=list(s.matched),
                learned=list(s.learned),
            )
            for s in hints.suggestions
        ],
        out_of_jurisdiction=place.flag,
        jurisdiction_reason=place.reason,
        places_inside=list(place.inside),
        places_outside=list(place.outside),
        place_evidence=[  # a place named again (one message quoted in the next) shows once
            PlaceEvidence(words=words, place=where, side=side)
            for words, where, side in dict.fromkeys(
                (e.words, e.place, e.side) for e in place.evidence
            )
        ],
        duplicate_of=duplicate.number if duplicate else None,
        duplicate_score=round(duplicate.score, 3) if duplicate else None,
        missing=list(hints.missing),
    )


@dataclass(frozen=True, slots=True)
class _Report:
    ticket_id: int
    number: str
    created_at: datetime
    text: str
    location: tuple[float, float] | None
    attachment_kinds: tuple[str, ...]


class TicketAssessor:
    def __init__(
        self,
        db: Database,
        hinter: Hinter,
        clock: Callable[[], datetime],
        models: ModelCache | None = None,
    ) -> None:
        self.db = db
        self.hinter = hinter
        self.models = models  # what the operators taught (triage/learning.py); None: keywords
        self.clock = clock
        self._pending: list[int] = []
        self._running = False

    async def assess(self, ticket_ids: Sequence[int]) -> None:
        """Queue tickets for assessment; the first caller works until the queue is empty."""
        self._pending.extend(ticket_ids)
        if self._running:
            return
        self._running = True
        try:
            while self._pending:
                batch, self._pending = self._pending[:BATCH], self._pending[BATCH:]
                try:
                    await asyncio.to_thread(self.assess_now, batch)
                except Exception:  # the tickets are stored; only their hints are missing
                    log.exception("could not compute triage hints for tickets %s", batch)
        finally:
            self._running = False

    def assess_now(self, ticket_ids: Sequence[int]) -> None:
        with self.db.engine.connect() as conn:
            reports = _reports(conn, ticket_ids)
            earliest = min((r.created_at for r in reports), default=None)
            # Readied once for the whole batch; each report then leaves out its own ticket.
            candidates = Candidates(self._candidates(conn, earliest))
        hinter = self.hinter
        if self.models is not None and reports:
            suggester = self.models.suggester(self.hinter.suggester)
            hinter = hinter.with_suggester(suggester)
        hinted: dict[int, TicketFlags] = {}
        for report in reports:
            facts = ReportFacts(report.text, report.created_at, report.location, report.number)
            others = candidates.without(report.number)
            hints = hinter.hints(facts, report.attachment_kinds, others)
            hinted[report.ticket_id] = flags_of(hints)
        if hinted:
            with self.db.write() as session:
                _merge_flags(session.connection(), hinted)

    def _candidates(self, conn: Connection, earliest: datetime | None) -> list[OpenTicket]:
        if earliest is None:
            return []
        since = earliest - self.hinter.duplicate_rules.window
        rows = conn.execute(_OPEN_SINCE, {"since": since}).all()
        if not rows:
            return []
        firsts = _first_messages(conn, rows[-1][2])
        tickets = []
        for ticket_id, number, created_at, summary in rows:
            text, location = firsts.get(ticket_id, (summary, None))
            tickets.append(OpenTicket(number, text, created_at, location))
        return tickets


def _merge_flags(conn: Connection, flags: dict[int, TicketFlags]) -> None:
    """Write each ticket's hints over the flags it has now: a sweep may have added its markers
    since. The rows are locked on PostgreSQL, in id order, until the caller commits."""
    query = _FLAGS_LOCKED if conn.dialect.name == "postgresql" else _FLAGS
    rows = [
        {"ticket_id": ticket_id, "merged": merged(current, flags[ticket_id])}
        for ticket_id, current in conn.execute(query, {"ticket_ids": list(flags)})
    ]
    if rows:
        conn.execute(_SET_FLAGS, rows)


def _reports(conn: Connection, ticket_ids: Sequence[int]) -> list[_Report]:
    """The tickets as they are now: the text of all their inbound messages in order, the first
    location sent, the attachments of every message (those without a message are left out).

    A report's later messages count: a location or photo sent after the first message is
    what clears the "missing" hint, and places the jurisdiction and duplicate checks read.
    """
    rows = conn.execute(_REPORTS, {"ticket_ids": list(ticket_ids)}).all()
    numbers: dict[int, tuple[str, datetime]] = {}
    texts: dict[int, list[str]] = {}
    points: dict[int, Point | None] = {}
    message_ids: dict[int, int] = {}  # message -> ticket
    for ticket_id, message_id, subject, body, latitude, longitude, number, created_at in reversed(
        rows
    ):  # earliest first
        text, point = _facts(subject, body, latitude, longitude)
        numbers[ticket_id] = (number, created_at)
        texts.setdefault(ticket_id, []).append(text)
        if points.get(ticket_id) is None:
            points[ticket_id] = point
        message_ids[message_id] = ticket_id
    kinds: dict[int, list[str]] = {}
    if message_ids:
        for message_id, kind in conn.execute(_ATTACHMENT_KINDS, {"message_ids": list(message_ids)}):
            kinds.setdefault(message_ids[message_id], []).append(kind)
    return [
        _Report(
            ticket_id,
            number,
            created_at,
            "\n".join(t for t in texts[ticket_id] if t),
            points[ticket_id],
            tuple(kinds.get(ticket_id, ())),
        )
        for ticket_id, (number, created_at) in numbers.items()
    ]


def _first_messages(conn: Connection, oldest: datetime) -> dict[int, tuple[str, Point | None]]:
    """Per open ticket created since `oldest`: the text of its first inbound message and the
    first location it was sent (often a message of its own, after the text)."""
    firsts: dict[int, tuple[str, Point | None]] = {}
    for ticket_id, _, subject, body, latitude, longitude in reversed(
        conn.execute(_INBOUND_OF_OPEN, {"oldest": oldest}).all()
    ):  # earliest first
        text, point = _facts(subject, body, latitude, longitude)
        if ticket_id not in firsts:
            firsts[ticket_id] = (text, point)
        elif firsts[ticket_id][1] is None and point is not None:
            firsts[ticket_id] = (firsts[ticket_id][0], point)
    return firsts


def _facts(
    subject: str | None, body: str | None, latitude: float | None, longitude: float | None
) -> tuple[str, Point | None]:
    """What triage reads of a message: its subject and text, and where it was sent from."""
    text = " ".join(filter(None, [subject, body]))
    return text, ((latitude, longitude) if latitude is not None else None)
