"""Checked SP4N-LAPOR! reports stored as historical tickets, all in one transaction.

Each report becomes a ticket numbered LAPOR-<Tracking ID> on the `lapor` channel (no live
channel: nothing is sent on it), with its reporter (no name for anonymous and confidential
reports), its first text as the reporter's message, the mapped category, OPD and status, and a
`lapor_import` audit event carrying the labels the learner reads (triage/learning.py) and the
platform's other columns for `lapor export`. A Tracking ID stored before, as an imported
ticket or as a Kanal ticket number an export carried, is skipped: importing twice adds nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session, col, select

from lapor.records import PREFIX, LaporReport
from store.db import Database
from store.models import Message, Reporter, Ticket, TicketEvent
from store.stats import SYSTEM_ACTOR
from triage.learning import IMPORTED

CHANNEL = "lapor"
_FINAL = {"resolved": "resolved", "closed": None}  # status: resolution


@dataclass(frozen=True, slots=True)
class Imported:
    stored: int
    skipped: int  # already in the store


def import_reports(db: Database, reports: Sequence[LaporReport]) -> Imported:
    with db.write() as session:
        known = _stored_numbers(session, reports)
        fresh = [r for r in reports if r.tracking_id.upper() not in known]
        # Table by table, each in one flush: SQLAlchemy sends a table's rows as one batched
        # INSERT ... RETURNING, so a year's export takes seconds, not a round trip per row.
        reporters = [_reporter(r) for r in fresh]
        session.add_all(reporters)
        session.flush()
        tickets = [_ticket(r, p.id or 0) for r, p in zip(fresh, reporters, strict=True)]
        session.add_all(tickets)
        session.flush()
        for report, ticket in zip(fresh, tickets, strict=True):
            session.add(_message(report, ticket))
            session.add(_event(report, ticket))
    return Imported(len(fresh), len(reports) - len(fresh))


def _stored_numbers(session: Session, reports: Sequence[LaporReport]) -> set[str]:
    """The Tracking IDs among `reports` that some ticket already stands for."""
    ids = [r.tracking_id.upper() for r in reports]
    known: set[str] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        numbers = chunk + [PREFIX + i for i in chunk]
        for number in session.exec(select(Ticket.number).where(col(Ticket.number).in_(numbers))):
            known.add(number.removeprefix(PREFIX))
    return known


def _number(report: LaporReport) -> str:
    return PREFIX + report.tracking_id.upper()


def _reporter(report: LaporReport) -> Reporter:
    return Reporter(
        channel=CHANNEL,
        sender_id=_number(report),
        display_name=report.reporter,
        created_at=report.created_at,
    )


def _ticket(report: LaporReport, reporter_id: int) -> Ticket:
    at = report.created_at
    return Ticket(
        number=_number(report),
        status=report.status,
        resolution=_FINAL.get(report.status),
        channel=CHANNEL,
        account=CHANNEL,
        reporter_id=reporter_id,
        summary=(report.title or report.text)[:200],
        created_at=at,
        last_activity_at=at,
        message_count=1,
        category=report.category,
        opd=report.opd,
        verified_at=at if report.category and report.status != "new" else None,
        closed_at=at if report.status in _FINAL else None,
    )


def _message(report: LaporReport, ticket: Ticket) -> Message:
    return Message(
        ticket_id=ticket.id or 0,
        direction="in",
        channel=CHANNEL,
        account=CHANNEL,
        external_id=ticket.number,
        sender_id=ticket.number,
        text=report.text,
        subject=report.title or None,
        sent_at=report.created_at,
        received_at=report.created_at,
    )


def _event(report: LaporReport, ticket: Ticket) -> TicketEvent:
    return TicketEvent(
        ticket_id=ticket.id or 0,
        at=report.created_at,
        actor=SYSTEM_ACTOR,
        action=IMPORTED,
        to_state=report.status,
        data={
            "tracking_id": report.tracking_id,
            "category": report.category,
            "opd": report.opd,
            "line": report.line,
            "lapor": report.extra,
        },
    )
