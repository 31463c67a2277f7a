"""Escalation alerts: the triage sweep's "escalate" audit events, batched per OPD and kind.

Rules: one message per (kind, OPD) per sweep with every newly overdue ticket; after a message,
that (kind, OPD) waits out the quiet period and then sends what arrived meanwhile in one batch;
a ticket already alerted for the same kind inside the quiet period is not repeated, nor a ticket
no longer with an OPD. Every event dealt with gets an `escalation_alerts` row (batch or
suppressed), in the same transaction as the notifications it made.

Ten years hold a great many escalate events: a pass reads only those after a mark
(`retention_marks` row "escalations"), the event before the oldest one still waiting out a
quiet period. The clean-up (store/retention.py) removes old `escalation_alerts` rows at or
below the mark, which no pass reads again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from store.models import EscalationAlert, RetentionMark, Ticket, TicketEvent
from store.retention import ESCALATIONS
from store.statuses import WITH_OPD

NEVER = datetime.min.replace(tzinfo=UTC)
KINDS = ("opd_overdue", "overall_overdue")
MARK = ESCALATIONS


@dataclass(frozen=True)
class Overdue:
    """One escalate event with what the alert says about its ticket."""

    event_id: int
    ticket_id: int
    number: str
    status: str
    kind: str
    opd: str
    due_at: datetime


@dataclass
class Batch:
    kind: str
    opd: str
    alerted: list[Overdue]
    suppressed: list[Overdue]

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.opd or '-'}:{min(e.event_id for e in self.alerted)}"


@dataclass(frozen=True)
class Pending:
    """The escalate events after the mark not dealt with yet, and the newest read (worded or
    not: verify_overdue events are for the digest, not alerted here)."""

    events: list[Overdue]
    newest: int


def pending(session: Session) -> Pending:
    """Escalate events the notifier has not dealt with yet, oldest first: a range of
    ix_ticket_events_action after the mark."""
    mark = session.get(RetentionMark, MARK)
    after = mark.last_id if mark else 0
    rows = session.exec(
        select(
            TicketEvent.id, TicketEvent.ticket_id, Ticket.number, Ticket.status, TicketEvent.data
        )
        .join(Ticket, col(Ticket.id) == col(TicketEvent.ticket_id))
        .where(TicketEvent.action == "escalate", col(TicketEvent.id) > after)
        .order_by(col(TicketEvent.id))
    ).all()
    # Read apart, as a range of the primary key: joined, a planner may read the whole table.
    dealt = set(
        session.exec(
            select(EscalationAlert.event_id).where(col(EscalationAlert.event_id) > after)
        ).all()
    )
    found = []
    for event_id, ticket_id, number, status, data in rows:
        if event_id in dealt:
            continue
        kind = data.get("kind")
        if kind not in KINDS or not data.get("due_at"):
            continue  # not an event this module knows how to word
        due = datetime.fromisoformat(data["due_at"])
        opd = data.get("opd") or ""
        found.append(Overdue(event_id or 0, ticket_id, number, status, kind, opd, due))
    return Pending(found, max((row[0] or 0 for row in rows), default=0))


def settle(session: Session, found: Pending, batches: list[Batch]) -> None:
    """Move the mark to just before the oldest event still waiting (its group quiet), or past
    everything read when none waits."""
    dealt = {e.event_id for b in batches for e in (*b.alerted, *b.suppressed)}
    waiting = [e.event_id for e in found.events if e.event_id not in dealt]
    upto = min(waiting) - 1 if waiting else found.newest
    mark = session.get(RetentionMark, MARK) or RetentionMark(name=MARK)
    if upto > mark.last_id:
        mark.last_id = upto
        session.add(mark)


def plan(session: Session, events: list[Overdue], now: datetime, quiet: timedelta) -> list[Batch]:
    """Group events per (kind, OPD) and apply the quiet period; groups still quiet are left out
    (their events stay pending)."""
    groups: dict[tuple[str, str], list[Overdue]] = {}
    for event in events:
        groups.setdefault((event.kind, event.opd), []).append(event)
    batches = []
    for (kind, opd), group in sorted(groups.items()):
        if _last_alert(session, kind, opd) > now - quiet:
            continue
        recent = _recently_alerted(session, kind, now - quiet)
        alerted: dict[int, Overdue] = {}
        suppressed = []
        for event in group:
            if event.ticket_id in recent or event.status not in WITH_OPD:
                suppressed.append(event)
                continue
            if event.ticket_id in alerted:  # the same ticket twice in one batch: say it once
                suppressed.append(alerted[event.ticket_id])
            alerted[event.ticket_id] = event
        batches.append(Batch(kind, opd, sorted(alerted.values(), key=_order), suppressed))
    return batches


def record(session: Session, batch: Batch, now: datetime) -> None:
    key = batch.key if batch.alerted else None
    for event, suppressed in [(e, False) for e in batch.alerted] + [
        (e, True) for e in batch.suppressed
    ]:
        session.add(
            EscalationAlert(
                event_id=event.event_id,
                ticket_id=event.ticket_id,
                kind=event.kind,
                opd=event.opd,
                alerted_at=now,
                batch=None if suppressed else key,
                suppressed=suppressed,
            )
        )


def _order(event: Overdue) -> tuple[datetime, str]:
    return (event.due_at, event.number)


def _last_alert(session: Session, kind: str, opd: str) -> datetime:
    last = session.exec(
        select(func.max(EscalationAlert.alerted_at)).where(
            EscalationAlert.kind == kind,
            EscalationAlert.opd == opd,
            col(EscalationAlert.suppressed).is_(False),
        )
    ).first()
    return last or NEVER


def _recently_alerted(session: Session, kind: str, since: datetime) -> set[int]:
    rows = session.exec(
        select(EscalationAlert.ticket_id).where(
            EscalationAlert.kind == kind,
            col(EscalationAlert.suppressed).is_(False),
            col(EscalationAlert.alerted_at) > since,
        )
    ).all()
    return set(rows)
