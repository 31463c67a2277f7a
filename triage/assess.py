"""Flags on new tickets (category suggestions, jurisdiction, likely duplicate, missing facts),
computed right after intake commits, off the intake's hot path."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from store.db import Database
from store.models import Attachment, Message, Ticket
from triage.duplicates import OpenTicket, ReportFacts
from triage.hints import Hinter, ReportHints
from triage.states import OPEN_STATES

log = logging.getLogger(__name__)

MAX_CANDIDATES = 500  # open tickets compared for duplicates, newest first


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


class TicketAssessor:
    def __init__(self, db: Database, hinter: Hinter, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.hinter = hinter
        self.clock = clock

    async def assess(self, ticket_ids: Sequence[int]) -> None:
        try:
            await asyncio.to_thread(self.assess_now, ticket_ids)
        except Exception:  # logged with the ids; the tickets are stored, only hints are missing
            log.exception("could not compute triage hints for tickets %s", list(ticket_ids))

    def assess_now(self, ticket_ids: Sequence[int]) -> None:
        with self.db.write() as session:
            for ticket_id in ticket_ids:
                ticket = session.get(Ticket, ticket_id)
                if ticket is not None:
                    self._assess(session, ticket)

    def _assess(self, session: Session, ticket: Ticket) -> None:
        first = _first_message(session, ticket.id or 0)
        if first is None:
            return
        kinds = session.exec(select(Attachment.kind).where(Attachment.message_id == first.id)).all()
        report = ReportFacts(
            text=" ".join(filter(None, [first.subject, first.text])),
            received_at=ticket.created_at,
            location=_point(first),
        )
        hints = self.hinter.hints(report, kinds, self._candidates(session, ticket))
        ticket.flags = {**ticket.flags, **flags_of(hints)}
        session.add(ticket)

    def _candidates(self, session: Session, ticket: Ticket) -> list[OpenTicket]:
        since = ticket.created_at - self.hinter.duplicate_rules.window
        others = session.exec(
            select(Ticket)
            .where(
                col(Ticket.status).in_([s.value for s in OPEN_STATES]),
                col(Ticket.created_at) >= since,
                Ticket.id != ticket.id,
            )
            .order_by(col(Ticket.created_at).desc())
            .limit(MAX_CANDIDATES)
        ).all()
        firsts: dict[int, Message] = {}
        if others:
            for message in session.exec(
                select(Message)
                .where(
                    col(Message.ticket_id).in_([o.id for o in others]), Message.direction == "in"
                )
                .order_by(col(Message.sent_at).desc(), col(Message.id).desc())
            ):
                firsts[message.ticket_id] = message  # the earliest is written last
        candidates = []
        for other in others:
            first = firsts.get(other.id or 0)
            text = " ".join(filter(None, [first.subject, first.text])) if first else other.summary
            candidates.append(
                OpenTicket(other.number, text, other.created_at, _point(first) if first else None)
            )
        return candidates


def _first_message(session: Session, ticket_id: int) -> Message | None:
    return session.exec(
        select(Message)
        .where(Message.ticket_id == ticket_id, Message.direction == "in")
        .order_by(col(Message.sent_at), col(Message.id))
        .limit(1)
    ).first()


def _point(message: Message) -> tuple[float, float] | None:
    if message.latitude is None or message.longitude is None:
        return None
    return (message.latitude, message.longitude)
