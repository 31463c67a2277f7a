"""Flags on new tickets (category suggestions, jurisdiction, likely duplicate, missing facts),
computed right after intake commits, off the intake's hot path.

One assessment runs at a time and takes every ticket that arrived meanwhile, so a burst of new
reports costs one read of the open tickets, not one per report, and never starves intake.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from store.db import Database
from store.models import Attachment, Message, Ticket
from triage.duplicates import Candidates, OpenTicket, ReportFacts
from triage.hints import Hinter, ReportHints
from triage.states import OPEN_STATES

log = logging.getLogger(__name__)

MAX_CANDIDATES = 300  # open tickets compared for duplicates, newest first
BATCH = 200
TICKETS = Ticket.__table__
MESSAGES = Message.__table__
ATTACHMENTS = Attachment.__table__


def flags_of(hints: ReportHints) -> dict[str, Any]:
    """The hints as the JSON kept on the ticket and shown to operators."""
    place = hints.jurisdiction
    duplicate = hints.duplicate
    return {
        "suggestions": [
            {
                "category": s.category,
                "opd": s.opd,
                "score": round(s.score, 3),
                "matched": list(s.matched),
            }
            for s in hints.suggestions
        ],
        "out_of_jurisdiction": place.flag,
        "jurisdiction_reason": place.reason,
        "places_inside": list(place.inside),
        "places_outside": list(place.outside),
        "duplicate_of": duplicate.number if duplicate else None,
        "duplicate_score": round(duplicate.score, 3) if duplicate else None,
        "missing": list(hints.missing),
    }


@dataclass(frozen=True, slots=True)
class _Report:
    ticket_id: int
    number: str
    created_at: datetime
    text: str
    location: tuple[float, float] | None
    attachment_kinds: tuple[str, ...]


class TicketAssessor:
    def __init__(self, db: Database, hinter: Hinter, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.hinter = hinter
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
        hinted = {}
        for report in reports:
            facts = ReportFacts(report.text, report.created_at, report.location)
            others = candidates.without(report.number)
            hints = self.hinter.hints(facts, report.attachment_kinds, others)
            hinted[report.ticket_id] = flags_of(hints)
        if hinted:
            with self.db.write() as session:
                _merge_flags(session.connection(), hinted)

    def _candidates(self, conn: Connection, earliest: datetime | None) -> list[OpenTicket]:
        if earliest is None:
            return []
        rows = conn.execute(
            select(TICKETS.c.id, TICKETS.c.number, TICKETS.c.created_at, TICKETS.c.summary)
            .where(
                TICKETS.c.status.in_([s.value for s in OPEN_STATES]),
                TICKETS.c.created_at >= earliest - self.hinter.duplicate_rules.window,
            )
            .order_by(TICKETS.c.created_at.desc())
            .limit(MAX_CANDIDATES)
        ).all()
        firsts = _first_messages(conn, [row.id for row in rows])
        tickets = []
        for ticket_id, number, created_at, summary in rows:
            text, location = firsts.get(ticket_id, (summary, None))
            tickets.append(OpenTicket(number, text, created_at, location))
        return tickets


def _merge_flags(conn: Connection, flags: dict[int, dict[str, Any]]) -> None:
    """Write each ticket's hints over the flags it has now: a sweep may have added its markers
    since. The rows are locked on PostgreSQL, in id order, until the caller commits."""
    query = (
        select(TICKETS.c.id, TICKETS.c.flags)
        .where(TICKETS.c.id.in_(list(flags)))
        .order_by(TICKETS.c.id)
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    merged = [
        {"ticket_id": ticket_id, "merged": {**(current or {}), **flags[ticket_id]}}
        for ticket_id, current in conn.execute(query)
    ]
    if merged:
        conn.execute(
            update(TICKETS)
            .where(TICKETS.c.id == bindparam("ticket_id"))
            .values(flags=bindparam("merged")),
            merged,
        )


def _reports(conn: Connection, ticket_ids: Sequence[int]) -> list[_Report]:
    tickets = conn.execute(
        select(TICKETS.c.id, TICKETS.c.number, TICKETS.c.created_at).where(
            TICKETS.c.id.in_(list(ticket_ids))
        )
    ).all()
    firsts = _first_messages(conn, [t.id for t in tickets], with_ids=True)
    kinds: dict[int, list[str]] = {}
    message_ids = [first[2] for first in firsts.values()]
    if message_ids:
        for message_id, kind in conn.execute(
            select(ATTACHMENTS.c.message_id, ATTACHMENTS.c.kind).where(
                ATTACHMENTS.c.message_id.in_(message_ids)
            )
        ):
            kinds.setdefault(message_id, []).append(kind)
    return [
        _Report(
            t.id,
            t.number,
            t.created_at,
            firsts[t.id][0],
            firsts[t.id][1],
            tuple(kinds.get(firsts[t.id][2], ())),
        )
        for t in tickets
        if t.id in firsts
    ]


def _first_messages(
    conn: Connection, ticket_ids: Sequence[int], *, with_ids: bool = False
) -> dict[int, tuple]:
    """Per ticket, the first inbound message: (text, location[, message id])."""
    if not ticket_ids:
        return {}
    rows = conn.execute(
        select(
            MESSAGES.c.ticket_id,
            MESSAGES.c.id,
            MESSAGES.c.subject,
            MESSAGES.c.text,
            MESSAGES.c.latitude,
            MESSAGES.c.longitude,
        )
        .where(MESSAGES.c.ticket_id.in_(list(ticket_ids)), MESSAGES.c.direction == "in")
        .order_by(MESSAGES.c.sent_at.desc(), MESSAGES.c.id.desc())
    )
    firsts: dict[int, tuple] = {}
    for row in rows:  # the earliest is written last
        text = " ".join(filter(None, [row.subject, row.text]))
        point = (row.latitude, row.longitude) if row.latitude is not None else None
        firsts[row.ticket_id] = (text, point, row.id) if with_ids else (text, point)
    return firsts
