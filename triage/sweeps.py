"""Scheduled sweeps: remind and auto-close silent reporters, record escalations of overdue OPDs."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from observability.context import bound
from store.db import Database
from store.flags import EscalationKind, SweepMarkers, merged
from store.models import Ticket, TicketEvent
from store.planner import rarely
from triage import messages
from triage.actions import TriageRules
from triage.merged_outcome import tell_merged
from triage.outbox import enqueue
from triage.states import Action, Status, TicketFacts, decide

log = logging.getLogger(__name__)
SYSTEM = "system"


@dataclass
class SweepReport:
    reminded: int = 0
    closed: int = 0
    escalated_opd: int = 0
    escalated_overall: int = 0
    escalated_verify: int = 0


class Sweeps:
    def __init__(
        self,
        db: Database,
        rules: TriageRules,
        clock: Callable[[], datetime],
        *,
        on_reply_queued: Callable[[], None] | None = None,
    ) -> None:
        self.db = db
        self.rules = rules
        self.clock = clock
        self.on_reply_queued = on_reply_queued

    def run(self) -> SweepReport:
        """One pass of every sweep; each ticket in its own transaction."""
        now = self.clock()
        report = SweepReport()
        report.reminded = self._each(self._due_reminders(now), self._remind, now)
        report.closed = self._each(self._due_closures(now), self._auto_close, now)
        report.escalated_opd = self._each(
            self._overdue("opd_due_at", now, "opd_overdue"), self._escalate_opd, now
        )
        report.escalated_overall = self._each(
            self._overdue("due_at", now, "overall_overdue"), self._escalate_overall, now
        )
        report.escalated_verify = self._each(self._unverified(now), self._escalate_verify, now)
        if report.reminded or report.closed:
            if self.on_reply_queued:
                self.on_reply_queued()
        if any(vars(report).values()):
            log.info("sweep: %s", report)
        return report

    def _each(
        self, ids: list[int], step: Callable[[Session, Ticket, datetime], bool], now: datetime
    ) -> int:
        done = 0
        for ticket_id in ids:
            with self.db.write() as session:
                query = select(Ticket).where(Ticket.id == ticket_id)
                if not self.db.is_sqlite:
                    query = query.with_for_update(skip_locked=True)
                ticket = session.exec(query).first()
                if ticket is None:
                    continue
                with bound(ticket=ticket.number):
                    if step(session, ticket, now):
                        done += 1
        return done

    def _ids(self, query: object) -> list[int]:
        with self.db.read() as session:
            return list(session.exec(query).all())  # type: ignore[call-overload]

    def _not_escalated(self, query: Any, kind: EscalationKind) -> list[int]:
        """Ids of (id, flags, due) rows whose due time was not escalated yet: a ticket stays
        overdue for days, and a write transaction per pass to find that out again would cost
        every pass a few milliseconds per overdue ticket."""
        with self.db.read() as session:
            rows = session.exec(query).all()
        return [
            ticket_id
            for ticket_id, flags, due in rows
            if SweepMarkers.read(flags).escalated(kind) != due.isoformat()
        ]

    def _due_closures(self, now: datetime) -> list[int]:
        return self._ids(
            select(Ticket.id).where(
                rarely(Ticket.status == Status.CLARIFYING.value),
                col(Ticket.clarification_due_at) <= now,
            )
        )

    def _due_reminders(self, now: datetime) -> list[int]:
        before = self.rules.triage.reminder_before
        if before is None:
            return []
        return self._ids(
            select(Ticket.id).where(
                rarely(Ticket.status == Status.CLARIFYING.value),
                col(Ticket.clarification_due_at) <= now + before,
                col(Ticket.clarification_due_at) > now,
            )
        )

    def _overdue(self, column: str, now: datetime, kind: EscalationKind) -> list[int]:
        due = getattr(Ticket, column)
        return self._not_escalated(
            select(Ticket.id, Ticket.flags, due).where(
                rarely(col(Ticket.status).in_([Status.FORWARDED.value, Status.IN_PROGRESS.value])),
                col(due) < now,
            ),
            kind,
        )

    def _unverified(self, now: datetime) -> list[int]:
        return self._not_escalated(
            select(Ticket.id, Ticket.flags, Ticket.verify_due_at).where(
                rarely(Ticket.status == Status.NEW.value), col(Ticket.verify_due_at) < now
            ),
            "verify_overdue",
        )

    def _remind(self, session: Session, ticket: Ticket, now: datetime) -> bool:
        due = ticket.clarification_due_at
        if ticket.status != Status.CLARIFYING.value or due is None:
            return False
        if ticket.markers.reminded_for == due.isoformat():
            return False  # one reminder per clarification request
        text = messages.render(
            "reminder.no_response",
            self.rules.locale,
            number=ticket.number,
            deadline=messages.format_due(due, self.rules.tz, self.rules.locale),
        )
        enqueue(session, ticket, text, author=SYSTEM, now=now, automatic=True)
        ticket.flags = merged(ticket.flags, SweepMarkers(reminded_for=due.isoformat()))
        self._event(session, ticket, "remind", ticket.status, ticket.status, now, note=text)
        return True

    def _auto_close(self, session: Session, ticket: Ticket, now: datetime) -> bool:
        due = ticket.clarification_due_at
        if ticket.status != Status.CLARIFYING.value or due is None or due > now:
            return False  # the reporter answered since the list was read
        outcome = decide(TicketFacts(Status(ticket.status)), Action.AUTO_CLOSE)
        text = messages.render("closed.no_response", self.rules.locale, number=ticket.number)
        enqueue(session, ticket, text, author=SYSTEM, now=now, automatic=True)
        ticket.status = outcome.to_state.value
        ticket.resolution = outcome.resolution.value if outcome.resolution else None
        ticket.closed_at = now
        ticket.open_key = None
        ticket.clarification_due_at = None
        told = tell_merged(
            session,
            ticket,
            locale=self.rules.locale,
            region=self.rules.region,
            author=SYSTEM,
            now=now,
        )
        self._event(
            session,
            ticket,
            Action.AUTO_CLOSE.value,
            outcome.from_state.value,
            outcome.to_state.value,
            now,
            note=text,
            data={"told_merged": told} if told else None,
        )
        return True

    def _escalate_opd(self, session: Session, ticket: Ticket, now: datetime) -> bool:
        return self._escalate(session, ticket, now, "opd_overdue", ticket.opd_due_at)

    def _escalate_overall(self, session: Session, ticket: Ticket, now: datetime) -> bool:
        return self._escalate(session, ticket, now, "overall_overdue", ticket.due_at)

    def _escalate_verify(self, session: Session, ticket: Ticket, now: datetime) -> bool:
        """The operators themselves are late: shown on the ticket and in the audit trail."""
        return self._escalate(
            session, ticket, now, "verify_overdue", ticket.verify_due_at, (Status.NEW.value,)
        )

    def _escalate(
        self,
        session: Session,
        ticket: Ticket,
        now: datetime,
        kind: EscalationKind,
        due: datetime | None,
        states: tuple[str, ...] = (Status.FORWARDED.value, Status.IN_PROGRESS.value),
    ) -> bool:
        """Record once per due time that it passed; the notifier turns the OPD and overall
        ones into alerts."""
        if due is None or due >= now or ticket.status not in states:
            return False
        if ticket.markers.escalated(kind) == due.isoformat():
            return False
        decide(TicketFacts(Status(ticket.status), verified=True), Action.ESCALATE)
        ticket.flags = merged(ticket.flags, SweepMarkers.escalation(kind, due.isoformat()))
        hours_late = round((now - due).total_seconds() / 3600, 1)
        self._event(
            session,
            ticket,
            Action.ESCALATE.value,
            ticket.status,
            ticket.status,
            now,
            data={
                "kind": kind,
                "opd": ticket.opd,
                "due_at": due.isoformat(),
                "hours_late": hours_late,
            },
        )
        return True

    def _event(
        self,
        session: Session,
        ticket: Ticket,
        action: str,
        from_state: str,
        to_state: str,
        now: datetime,
        *,
        note: str | None = None,
        data: dict | None = None,
    ) -> None:
        session.add(ticket)
        session.add(
            TicketEvent(
                ticket_id=ticket.id or 0,
                at=now,
                actor=SYSTEM,
                action=action,
                from_state=from_state,
                to_state=to_state,
                note=note,
                data=data or {},
            )
        )
