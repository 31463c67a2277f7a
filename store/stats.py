"""The figures supervisors read (daily digest, statistics page, /api/stats), computed once, here.

Public entry points:

- `period_stats(session, start, end, as_of=...) -> dict` answers a PERIOD: the figures of the
  reports (tickets) *received* in [start, end), in their state as of `as_of` (default: end):

      {"received": {"total": N, "by_channel": {CHANNEL: N}},
       "valid": N,
       "not_valid": {"total": N, "by_reason": {"not_factual": N, "no_response": N, "spam": N}},
       "rejected": {"total": N, "by_reason": {"out_of_jurisdiction": N,
                                              "not_government_affairs": N, "private_matter": N}},
       "by_status": {STATUS: N},          # every Status, zeros included
       "by_category": {CODE: N},          # only tickets given a category
       "by_opd": {CODE: N},               # only tickets given an OPD
       "overdue_by_opd": {OPD: [NUMBER, ...]},  # the OPD answer clock, per OPD
       "overdue_verify": [NUMBER, ...],       # the operators' verify clock (one team)
       "median_first_response_hours": X | None,
       "median_resolution_hours": X | None,
       "satisfaction": {"by_opd": {OPD: OUTCOME}, "by_category": {CODE: OUTCOME}}}

  where OUTCOME = {"resolved": N, "reopened": N, "reopened_share": X | None, "rated": N,
  "mean_rating": X | None}: of the tickets resolved (as they stand, or reopened since by their
  reporter), how many the reporter reopened ("belum", or a follow-up within
  `[triage] reopen_within`), and the mean of the reporters' 1-5 ratings (issue 18). Only OPDs
  and categories with a resolved ticket are listed.

- `stage_counts(by_status)`: a PERIOD's by_status in the stages below.
- `day_range(day, tz)`, `month_to_date_range(day, tz)`: the UTC bounds of a local day and of
  the month up to and including it.
- `query_range(from, to, tz, now)`: the bounds a caller (e.g. `GET /api/stats?from=&to=`) means.
- `overdue_tickets(session, as_of)`: every open ticket past its verify, OPD or overall due
  time, with how late, for the digest and the statistics page.
- `closing_on(session, as_of, end)`: tickets waiting for a reporter that auto-close before `end`.

Definitions (decided here, used everywhere):

- received: a ticket whose `created_at` is in the period; one ticket per report, merged
  duplicates included (the citizen did report).
- valid: the ticket was verified (`verified_at` set), whatever happened after.
- not valid: closed with resolution not_factual, no_response (auto-closed, the reporter never
  answered) or spam. rejected: closed as out_of_jurisdiction, not_government_affairs or
  private_matter. Duplicates (merged) are in neither.
- stages, in Kota Pasuruan's words: "to follow up" (perlu tindak lanjut) = new or clarifying, the
  inbox still has to act; "in process" (dalam proses) = forwarded or in_progress, with an OPD;
  "resolved" (selesai) = resolved; "closed" = closed without a resolution (not valid, rejected,
  merged).
- first response: the first outbound message written by a person (author not "system") or the
  first action by a person (audit event whose actor is not "system"), after creation. Tickets
  without one are left out of the median.
- resolution time: closed_at - created_at of tickets whose resolution is "resolved".
- overdue: an open ticket with an OPD (forwarded or in_progress) whose opd_due_at has passed
  (counted per OPD), or a new ticket whose verify_due_at has passed (the operators' own clock,
  SP4N-LAPOR!'s three working days; counted for the operators as one team).

Pure computation (`period_figures`) is separate from the queries (`ticket_rows`), so it is tested
without a database.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from store.flags import Satisfaction
from store.models import Message, Ticket, TicketEvent
from store.planner import rarely
from store.statuses import STATUSES, WITH_OPD, WITH_OPERATORS, Status

SYSTEM_ACTOR = "system"
STAGES: dict[str, tuple[str, ...]] = {
    "to_follow_up": WITH_OPERATORS,
    "in_process": (*WITH_OPD, Status.ANSWERED.value),  # answered, not yet resolved
    "resolved": (Status.RESOLVED.value,),
    "closed": (Status.CLOSED.value,),
}
NOT_VALID_REASONS = ("not_factual", "no_response", "spam")
REJECTED_REASONS = ("out_of_jurisdiction", "not_government_affairs", "private_matter")
# Audit actions that are not a response to the ticket they are recorded on.
_NOT_A_RESPONSE = ("merged_from",)


@dataclass(frozen=True, slots=True)
class TicketRow:
    """What the figures need to know about one ticket."""

    number: str
    channel: str
    status: str
    resolution: str | None
    category: str | None
    opd: str | None
    created_at: datetime
    verified_at: datetime | None
    closed_at: datetime | None
    opd_due_at: datetime | None
    verify_due_at: datetime | None = None
    first_response_at: datetime | None = None
    rating: int | None = None  # the reporter's 1-5 at the check-back
    reopened: bool = False  # the reporter reopened it after it was resolved


@dataclass(frozen=True, slots=True)
class OverdueTicket:
    number: str
    opd: str | None
    # "verify" (the operators'), "opd" (the OPD's answer) or "overall" (the whole case) is late
    kind: str
    due_at: datetime
    hours_late: float


# --- time ranges --------------------------------------------------------------------------------


def day_range(day: date, tz: tzinfo) -> tuple[datetime, datetime]:
    """[start, end) of a local calendar day, as aware datetimes."""
    start = datetime.combine(day, time(0), tzinfo=tz)
    return start, datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)


def month_to_date_range(day: date, tz: tzinfo) -> tuple[datetime, datetime]:
    """From the first of `day`'s month to the end of `day`, local time."""
    return day_range(day.replace(day=1), tz)[0], day_range(day, tz)[1]


def query_range(
    first: str | None, last: str | None, tz: tzinfo, now: datetime
) -> tuple[datetime, datetime]:
    """[start, end) from two texts: a local date (YYYY-MM-DD; `last` included) or an ISO 8601
    instant with its offset (`last` excluded). Defaults: this month, up to the end of today."""
    today = now.astimezone(tz).date()
    start = (
        _bound(first, tz, "from", end=False) if first else day_range(today.replace(day=1), tz)[0]
    )
    end = _bound(last, tz, "to", end=True) if last else day_range(today, tz)[1]
    if start >= end:
        raise ValueError("`from` must come before `to`")
    return start, end


def _representable(moment: datetime, name: str) -> datetime:
    """`moment` if the store can hold it as UTC (it keeps every time in UTC)."""
    try:
        moment.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"`{name}` is out of range (years 1 to 9999)") from None
    return moment


def _bound(text: str, tz: tzinfo, name: str, *, end: bool) -> datetime:
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            moment = day_range(day, tz)[1 if end else 0]
        else:
            moment = datetime.fromisoformat(text)
    except OverflowError:  # the day after 9999-12-31
        raise ValueError(f"`{name}` is out of range (years 1 to 9999)") from None
    except ValueError:
        raise ValueError(f"`{name}` must be a date (YYYY-MM-DD) or an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise ValueError(f"`{name}` needs a time zone offset, e.g. 2026-11-23T07:00:00+07:00")
    return _representable(moment, name)


# --- pure figures -------------------------------------------------------------------------------


def period_figures(rows: Iterable[TicketRow], as_of: datetime) -> dict[str, Any]:
    """The PERIOD figures of these tickets, their state taken as of `as_of`."""
    rows = list(rows)
    resolutions = Counter(r.resolution for r in rows if r.status == "closed")
    statuses = Counter(r.status for r in rows)
    overdue: dict[str, list[str]] = {}
    for row in sorted(rows, key=lambda r: r.number):
        if _is_overdue(row, as_of):
            overdue.setdefault(row.opd or "", []).append(row.number)
    return {
        "received": {
            "total": len(rows),
            "by_channel": dict(sorted(Counter(r.channel for r in rows).items())),
        },
        "valid": sum(1 for r in rows if r.verified_at is not None),
        "not_valid": _reasons(resolutions, NOT_VALID_REASONS),
        "rejected": _reasons(resolutions, REJECTED_REASONS),
        "by_status": {status: statuses.get(status, 0) for status in STATUSES},
        "by_category": dict(sorted(Counter(r.category for r in rows if r.category).items())),
        "by_opd": dict(sorted(Counter(r.opd for r in rows if r.opd).items())),
        "overdue_by_opd": dict(sorted(overdue.items())),
        "overdue_verify": sorted(r.number for r in rows if _is_verify_overdue(r, as_of)),
        "median_first_response_hours": _median_hours(
            r.first_response_at - r.created_at for r in rows if r.first_response_at is not None
        ),
        "median_resolution_hours": _median_hours(
            r.closed_at - r.created_at
            for r in rows
            if r.resolution == "resolved" and r.closed_at is not None
        ),
        "satisfaction": {
            "by_opd": _outcomes(rows, lambda r: r.opd),
            "by_category": _outcomes(rows, lambda r: r.category),
        },
    }


def _outcomes(rows: list[TicketRow], group: Any) -> dict[str, dict[str, Any]]:
    """Per OPD or category: the reporters' verdict on the tickets resolved (see OUTCOME)."""
    settled: dict[str, list[TicketRow]] = {}
    for row in rows:
        if (row.status == Status.RESOLVED.value or row.reopened) and group(row):
            settled.setdefault(group(row), []).append(row)
    outcomes = {}
    for key, tickets in sorted(settled.items()):
        reopened = sum(1 for r in tickets if r.reopened)
        ratings = [r.rating for r in tickets if r.rating is not None]
        outcomes[key] = {
            "resolved": len(tickets),
            "reopened": reopened,
            "reopened_share": round(reopened / len(tickets), 3),
            "rated": len(ratings),
            "mean_rating": round(statistics.fmean(ratings), 2) if ratings else None,
        }
    return outcomes


def stage_counts(by_status: dict[str, int]) -> dict[str, int]:
    """{"to_follow_up", "in_process", "resolved", "closed"} counts from a PERIOD's by_status."""
    return {stage: sum(by_status.get(s, 0) for s in states) for stage, states in STAGES.items()}


def _reasons(counts: Counter[str | None], reasons: tuple[str, ...]) -> dict[str, Any]:
    by_reason = {reason: counts.get(reason, 0) for reason in reasons}
    return {"total": sum(by_reason.values()), "by_reason": by_reason}


def _is_overdue(row: TicketRow, as_of: datetime) -> bool:
    return row.status in WITH_OPD and row.opd_due_at is not None and row.opd_due_at < as_of


def _is_verify_overdue(row: TicketRow, as_of: datetime) -> bool:
    return (
        row.status == Status.NEW.value
        and row.verify_due_at is not None
        and row.verify_due_at < as_of
    )


def _median_hours(spans: Iterable[timedelta]) -> float | None:
    hours = [span.total_seconds() / 3600 for span in spans]
    return round(statistics.median(hours), 2) if hours else None


# --- queries ------------------------------------------------------------------------------------


def period_stats(
    session: Session, start: datetime, end: datetime, *, as_of: datetime | None = None
) -> dict[str, Any]:
    """The PERIOD figures (see the module docstring) of tickets created in [start, end)."""
    return period_figures(ticket_rows(session, start, end), as_of or end)


def ticket_rows(session: Session, start: datetime, end: datetime) -> list[TicketRow]:
    """Every ticket created in [start, end), with its first response time."""
    in_period = (col(Ticket.created_at) >= start, col(Ticket.created_at) < end)
    tickets = session.exec(
        select(
            Ticket.id,
            Ticket.number,
            Ticket.channel,
            Ticket.status,
            Ticket.resolution,
            Ticket.category,
            Ticket.opd,
            Ticket.created_at,
            Ticket.verified_at,
            Ticket.closed_at,
            Ticket.opd_due_at,
            Ticket.verify_due_at,
            Ticket.flags,
        ).where(*in_period)
    ).all()
    first = _first_responses(session, start, end)
    reopened = _reopened_by_reporters(session, start, end)
    return [
        TicketRow(
            *row[1:-1],
            first_response_at=first.get(row[0]),
            rating=Satisfaction.read(row[-1]).checkback_rating,
            reopened=row[0] in reopened,
        )
        for row in tickets
    ]


def _reopened_by_reporters(session: Session, start: datetime, end: datetime) -> set[int]:
    """Tickets their reporter reopened after a resolve: the system's reopen (a follow-up, the
    check-back's "belum") from the resolved state; an operator's reopen is not the reporter's."""
    in_period = (col(Ticket.created_at) >= start, col(Ticket.created_at) < end)
    return set(
        session.exec(
            select(TicketEvent.ticket_id)
            .join(Ticket, col(Ticket.id) == col(TicketEvent.ticket_id))
            .where(
                *in_period,
                TicketEvent.actor == SYSTEM_ACTOR,
                col(TicketEvent.action).in_(("reopen", "not_fixed")),
                TicketEvent.from_state == Status.RESOLVED.value,
            )
        ).all()
    )


def _first_responses(session: Session, start: datetime, end: datetime) -> dict[int, datetime]:
    in_period = (col(Ticket.created_at) >= start, col(Ticket.created_at) < end)
    replies = session.exec(
        select(Message.ticket_id, func.min(Message.sent_at))
        .join(Ticket, col(Ticket.id) == col(Message.ticket_id))
        .where(
            *in_period,
            Message.direction == "out",
            col(Message.author).is_not(None),
            Message.author != SYSTEM_ACTOR,
        )
        .group_by(col(Message.ticket_id))
    ).all()
    actions = session.exec(
        select(TicketEvent.ticket_id, func.min(TicketEvent.at))
        .join(Ticket, col(Ticket.id) == col(TicketEvent.ticket_id))
        .where(
            *in_period,
            TicketEvent.actor != SYSTEM_ACTOR,
            col(TicketEvent.action).not_in(_NOT_A_RESPONSE),
        )
        .group_by(col(TicketEvent.ticket_id))
    ).all()
    first: dict[int, datetime] = {}
    for ticket_id, at in [*replies, *actions]:
        if at is not None and (ticket_id not in first or at < first[ticket_id]):
            first[ticket_id] = at
    return first


def overdue_tickets(session: Session, as_of: datetime) -> list[OverdueTicket]:
    """Open tickets past their verify due time ("verify", the operators' clock), OPD due time
    ("opd") or overall due time ("overall"), latest first within each OPD."""
    found: list[OverdueTicket] = []
    clocks = (
        ("verify", Ticket.verify_due_at, (Status.NEW.value,)),
        ("opd", Ticket.opd_due_at, WITH_OPD),
        ("overall", Ticket.due_at, WITH_OPD),
    )
    for kind, column, states in clocks:
        rows = session.exec(
            select(Ticket.number, Ticket.opd, column).where(
                rarely(col(Ticket.status).in_(states)), col(column) < as_of
            )
        ).all()
        for number, opd, due in rows:
            hours = round((as_of - due).total_seconds() / 3600, 1)
            found.append(OverdueTicket(number, opd, kind, due, hours))
    order = {"verify": 0, "opd": 1, "overall": 2}
    return sorted(found, key=lambda t: (t.opd or "", order[t.kind], -t.hours_late, t.number))


def closing_on(session: Session, as_of: datetime, end: datetime) -> list[tuple[str, datetime]]:
    """(number, when) of tickets waiting for their reporter that auto-close in [as_of, end)."""
    rows = session.exec(
        select(Ticket.number, Ticket.clarification_due_at)
        .where(
            rarely(Ticket.status == Status.CLARIFYING.value),
            col(Ticket.clarification_due_at) >= as_of,
            col(Ticket.clarification_due_at) < end,
        )
        .order_by(col(Ticket.clarification_due_at), col(Ticket.number))
    ).all()
    return [(number, due) for number, due in rows if due is not None]
