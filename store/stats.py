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
  first action by a person (audit event whose actor is not "system"), after creation; every
  reply a person sends is an action, so `note_response` keeps the first action's time on the
  ticket (`first_response_at`). Tickets without one are left out of the median.
- reopened by the reporter: the system reopened it from resolved (a follow-up, the check-back's
  "belum"); kept on the ticket as `reopened_by_reporter` (store/ingest.py).
- resolution time: closed_at - created_at of tickets whose resolution is "resolved".
- overdue: an open ticket with an OPD (forwarded or in_progress) whose opd_due_at has passed
  (counted per OPD), or a new ticket whose verify_due_at has passed (the operators' own clock,
  SP4N-LAPOR!'s three working days; counted for the operators as one team).

Pure computation (`period_figures` over TicketRows, `figures_of` over the tallies of a GROUP BY)
is separate from the queries (`period_stats`, `ticket_rows`), so it is tested without a
database; both shapes go through `figures_of`, so the figures have one definition.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import Float, and_, func
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import Session, col, select

from store.models import Ticket
from store.planner import rarely
from store.statuses import STATUSES, WITH_OPD, WITH_OPERATORS, Status

SYSTEM_ACTOR = "system"  # the service itself, not a person
STAGES: dict[str, tuple[str, ...]] = {
    "to_follow_up": WITH_OPERATORS,
    "in_process": (*WITH_OPD, Status.ANSWERED.value),  # answered, not yet resolved
    "resolved": (Status.RESOLVED.value,),
    "closed": (Status.CLOSED.value,),
}
NOT_VALID_REASONS = ("not_factual", "no_response", "spam")
REJECTED_REASONS = ("out_of_jurisdiction", "not_government_affairs", "private_matter")


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


@dataclass(frozen=True, slots=True)
class Tally:
    """The tickets of a period that share every trait a figure counts by: one row of the
    statistics' GROUP BY, or the same made from TicketRows."""

    channel: str
    status: str
    resolution: str | None
    category: str | None
    opd: str | None
    verified: bool
    reopened: bool
    tickets: int
    rated: int = 0
    rating_sum: int = 0


def period_figures(rows: Iterable[TicketRow], as_of: datetime) -> dict[str, Any]:
    """The PERIOD figures of these tickets, their state taken as of `as_of`."""
    rows = list(rows)
    counts: Counter[tuple[Any, ...]] = Counter()
    ratings: Counter[tuple[Any, ...]] = Counter()
    rated: Counter[tuple[Any, ...]] = Counter()
    for r in rows:
        key = (r.channel, r.status, r.resolution, r.category, r.opd)
        key += (r.verified_at is not None, r.reopened)
        counts[key] += 1
        if r.rating is not None:
            rated[key] += 1
            ratings[key] += r.rating
    tallies = [Tally(*key, n, rated[key], ratings[key]) for key, n in counts.items()]
    first = _median_hours(
        r.first_response_at - r.created_at for r in rows if r.first_response_at is not None
    )
    resolution = _median_hours(
        r.closed_at - r.created_at
        for r in rows
        if r.resolution == "resolved" and r.closed_at is not None
    )
    return figures_of(tallies, rows, as_of, first_response=first, resolution=resolution)


def figures_of(
    tallies: list[Tally],
    open_rows: Iterable[TicketRow],
    as_of: datetime,
    *,
    first_response: float | None,
    resolution: float | None,
) -> dict[str, Any]:
    """The PERIOD figures from its tallies, its open tickets (for the overdue lists; others
    may be among them) and its two medians in hours."""
    resolutions: Counter[str | None] = Counter()
    statuses: Counter[str] = Counter()
    channels: Counter[str] = Counter()
    categories: Counter[str] = Counter()
    opds: Counter[str] = Counter()
    for t in tallies:
        channels[t.channel] += t.tickets
        statuses[t.status] += t.tickets
        if t.status == "closed":
            resolutions[t.resolution] += t.tickets
        if t.category:
            categories[t.category] += t.tickets
        if t.opd:
            opds[t.opd] += t.tickets
    overdue: dict[str, list[str]] = {}
    open_rows = sorted(open_rows, key=lambda r: r.number)
    for row in open_rows:
        if _is_overdue(row, as_of):
            overdue.setdefault(row.opd or "", []).append(row.number)
    return {
        "received": {
            "total": sum(t.tickets for t in tallies),
            "by_channel": dict(sorted(channels.items())),
        },
        "valid": sum(t.tickets for t in tallies if t.verified),
        "not_valid": _reasons(resolutions, NOT_VALID_REASONS),
        "rejected": _reasons(resolutions, REJECTED_REASONS),
        "by_status": {status: statuses.get(status, 0) for status in STATUSES},
        "by_category": dict(sorted(categories.items())),
        "by_opd": dict(sorted(opds.items())),
        "overdue_by_opd": dict(sorted(overdue.items())),
        "overdue_verify": [r.number for r in open_rows if _is_verify_overdue(r, as_of)],
        "median_first_response_hours": first_response,
        "median_resolution_hours": resolution,
        "satisfaction": {
            "by_opd": _outcomes(tallies, lambda t: t.opd),
            "by_category": _outcomes(tallies, lambda t: t.category),
        },
    }


def _outcomes(tallies: list[Tally], group: Any) -> dict[str, dict[str, Any]]:
    """Per OPD or category: the reporters' verdict on the tickets resolved (see OUTCOME)."""
    settled: dict[str, list[Tally]] = {}
    for tally in tallies:
        if (tally.status == Status.RESOLVED.value or tally.reopened) and group(tally):
            settled.setdefault(group(tally), []).append(tally)
    outcomes = {}
    for key, group_tallies in sorted(settled.items()):
        resolved = sum(t.tickets for t in group_tallies)
        reopened = sum(t.tickets for t in group_tallies if t.reopened)
        rated = sum(t.rated for t in group_tallies)
        rating_sum = sum(t.rating_sum for t in group_tallies)
        outcomes[key] = {
            "resolved": resolved,
            "reopened": reopened,
            "reopened_share": round(reopened / resolved, 3),
            "rated": rated,
            "mean_rating": round(rating_sum / rated, 2) if rated else None,
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


# --- writers ------------------------------------------------------------------------------------


def note_response(ticket: Ticket, by: str, at: datetime) -> None:
    """`by` acted on the ticket at `at`: its first response, when `by` is a person and it had
    none yet (the reopen mark is kept by store.ingest, where the reporter reopens)."""
    if by != SYSTEM_ACTOR and ticket.first_response_at is None:
        ticket.first_response_at = at


# --- queries ------------------------------------------------------------------------------------
#
# A year at a million tickets is a hundred thousand rows: the figures are one GROUP BY over the
# period's range of ix_tickets_created (a few thousand groups come back, not the tickets), the
# open tickets through ix_tickets_status_created (a few hundred), and each median one sorted
# read that hands back the middle one or two values.


class hours_between(FunctionElement[float]):  # reads as SQL: hours_between(later, earlier)
    """`later - earlier` in hours, as a number the database can sort."""

    type = Float()
    inherit_cache = True
    name = "hours_between"


@compiles(hours_between)
def _hours_postgresql(element: hours_between, compiler: Any, **kw: Any) -> str:
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"(EXTRACT(EPOCH FROM ({later} - {earlier})) / 3600.0)"


@compiles(hours_between, "sqlite")
def _hours_sqlite(element: hours_between, compiler: Any, **kw: Any) -> str:
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"((julianday({later}) - julianday({earlier})) * 24.0)"


def period_stats(
    session: Session, start: datetime, end: datetime, *, as_of: datetime | None = None
) -> dict[str, Any]:
    """The PERIOD figures (see the module docstring) of tickets created in [start, end)."""
    in_period = (col(Ticket.created_at) >= start, col(Ticket.created_at) < end)
    rating = col(Ticket.checkback_rating)
    verified = col(Ticket.verified_at).is_not(None)
    traits = (
        col(Ticket.channel),
        col(Ticket.status),
        col(Ticket.resolution),
        col(Ticket.category),
        col(Ticket.opd),
        verified,
        col(Ticket.reopened_by_reporter),
    )
    groups = session.exec(
        select(  # type: ignore[call-overload]
            *traits,
            func.count(),
            func.count(rating),
            func.coalesce(func.sum(rating), 0),
            func.count(col(Ticket.first_response_at)),
            func.count(col(Ticket.closed_at)),
        )
        .where(*in_period)
        .group_by(*traits)
    ).all()
    tallies = [
        Tally(ch, st, res, cat, opd, bool(ver), bool(reop), n, rated, int(total))
        for ch, st, res, cat, opd, ver, reop, n, rated, total, _, _ in groups
    ]
    first, resolution = _medians(session, groups, in_period)
    return figures_of(
        tallies,
        _open_rows(session, start, end),
        as_of or end,
        first_response=first,
        resolution=resolution,
    )


def _medians(
    session: Session, groups: Sequence[Any], in_period: tuple[Any, ...]
) -> tuple[float | None, float | None]:
    """The median hours to the first response and to resolution of the period's tickets;
    `groups` are period_stats' grouped rows, whose last two columns count each."""
    to_first = hours_between(col(Ticket.first_response_at), col(Ticket.created_at))
    to_resolve = hours_between(col(Ticket.closed_at), col(Ticket.created_at))
    first_when = col(Ticket.first_response_at).is_not(None)
    resolved_when = and_(Ticket.resolution == "resolved", col(Ticket.closed_at).is_not(None))
    if session.get_bind().dialect.name == "postgresql":
        # Both in one pass over the period's tickets, the database interpolating the middle
        # two of an even count as _median does.
        found = session.exec(
            select(  # type: ignore[call-overload]
                func.percentile_cont(0.5).within_group(to_first).filter(first_when),
                func.percentile_cont(0.5).within_group(to_resolve).filter(resolved_when),
            ).where(*in_period)
        ).one()
        first, resolution = (None if m is None else round(float(m), 2) for m in found)
        return first, resolution
    responded = sum(g[-2] for g in groups)
    resolved = sum(g[-1] for g in groups if g[2] == "resolved")
    return (
        _median(session, to_first, responded, *in_period, first_when),
        _median(session, to_resolve, resolved, *in_period, resolved_when),
    )


def _median(session: Session, hours: Any, count: int, *where: Any) -> float | None:
    """The median of `hours` over the `count` rows `where` selects: the middle one or two of
    the sorted values, the database sorting."""
    if count == 0:
        return None
    middle = session.exec(
        select(hours)
        .where(*where)
        .order_by(hours)
        .offset((count - 1) // 2)
        .limit(1 if count % 2 else 2)
    ).all()
    return round(statistics.fmean(middle), 2) if middle else None


# A TicketRow's columns, in its order.
_ROW_COLUMNS = (
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
    Ticket.first_response_at,
    Ticket.checkback_rating,
    Ticket.reopened_by_reporter,
)


def _rows(session: Session, *where: Any) -> list[TicketRow]:
    rows = session.exec(select(*_ROW_COLUMNS).where(*where)).all()
    return [TicketRow(*row[:-1], reopened=bool(row[-1])) for row in rows]


def _open_rows(session: Session, start: datetime, end: datetime) -> list[TicketRow]:
    """The period's tickets whose clocks may be late: few, read by status."""
    waiting = (Status.NEW.value, *WITH_OPD)
    return _rows(
        session,
        rarely(col(Ticket.status).in_(waiting)),
        col(Ticket.created_at) >= start,
        col(Ticket.created_at) < end,
    )


def ticket_rows(session: Session, start: datetime, end: datetime) -> list[TicketRow]:
    """Every ticket created in [start, end), for a short period (the digest's month)."""
    return _rows(session, col(Ticket.created_at) >= start, col(Ticket.created_at) < end)


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
