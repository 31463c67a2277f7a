"""The operators' queue: tickets filtered, counted per filter, what needs action first, by page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_
from sqlmodel import Session, col, select

from store.models import Reporter, Ticket, TicketStatusCount
from store.planner import rarely
from store.statuses import OPEN, STATUSES, WITH_OPD, Status
from store.tickets import (
    forwarded_to,  # who an OPD's liaison sees, the same everywhere
    search_hits,  # the API's search, the same everywhere
)

PAGE_SIZE = 25


@dataclass(frozen=True, slots=True)
class QueueFilter:
    status: str = "open"  # "open", "all" or one status
    channel: str | None = None
    category: str | None = None
    opd: str | None = None
    overdue: bool = False
    answered: bool = False
    flag: str | None = None  # "out_of_jurisdiction" or "duplicate"
    q: str | None = None
    only_opd: str | None = None  # an OPD user sees only the tickets forwarded to it
    page: int = 1


@dataclass(frozen=True, slots=True)
class QueuePage:
    rows: list[tuple[Ticket, Reporter]]
    total: int
    page: int
    pages: int
    counts: dict[str, dict[str, int]]


def overdue_clause(now: datetime) -> ColumnElement[bool]:
    """With an OPD past its answer time (as store/stats.py counts it), or open past the whole
    case's due time."""
    return and_(
        _open(),
        or_(
            and_(col(Ticket.status).in_(WITH_OPD), col(Ticket.opd_due_at) < now),
            col(Ticket.due_at) < now,
        ),
    )


def _flag_clause(flag: str) -> ColumnElement[bool]:
    """Tickets whose `TicketFlags` (store/flags.py) say so, read inside the JSON in SQL."""
    flags: Any = Ticket.flags
    if flag == "out_of_jurisdiction":
        return flags["out_of_jurisdiction"].as_boolean().is_(True)
    return flags["duplicate_of"].as_string().is_not(None)


def _scope(only_opd: str | None, *, listing: bool) -> Any:
    """The tickets a user sees; `listing` with their reporters (counting needs no join)."""
    query = select(Ticket)
    if listing:
        query = select(Ticket, Reporter).join(Reporter, col(Reporter.id) == Ticket.reporter_id)
    return query.where(forwarded_to(only_opd)) if only_opd else query


def _open(statuses: tuple[str, ...] = OPEN) -> ColumnElement[bool]:
    return rarely(col(Ticket.status).in_(statuses))


def _filtered(wanted: QueueFilter, now: datetime, *, listing: bool, hits: Any = None) -> Any:
    query = _scope(wanted.only_opd, listing=listing)
    statuses = _statuses(wanted)
    if statuses != STATUSES:
        query = query.where(_status_in(statuses))
    if hits is not None:
        query = query.join(hits, hits.c.ticket_id == Ticket.id)
    for column, value in (
        (Ticket.channel, wanted.channel),
        (Ticket.category, wanted.category),
        (Ticket.opd, wanted.opd),
    ):
        if value:
            query = query.where(column == value)
    if wanted.overdue:
        query = query.where(overdue_clause(now))
    if wanted.answered:
        query = query.where(col(Ticket.answered).is_(True), _open((Status.NEW.value,)))
    if wanted.flag in ("out_of_jurisdiction", "duplicate"):
        query = query.where(_flag_clause(wanted.flag))
    return query


def _statuses(wanted: QueueFilter) -> tuple[str, ...]:
    if wanted.status == "open":
        return OPEN
    return (wanted.status,) if wanted.status in STATUSES else STATUSES


def urgency(now: datetime) -> ColumnElement[int]:
    """0 = the reporter answered, 1 = overdue, 2 = new, 3 = with an OPD, 4 = waiting, 5 = done."""
    return case(
        (and_(Ticket.status == Status.NEW.value, col(Ticket.answered).is_(True)), 0),
        (overdue_clause(now), 1),
        (Ticket.status == Status.NEW.value, 2),
        (col(Ticket.status).in_(WITH_OPD), 3),
        (Ticket.status == Status.CLARIFYING.value, 4),
        else_=5,
    )


def queue_page(
    session: Session, wanted: QueueFilter, now: datetime, *, with_counts: bool = True
) -> QueuePage:
    """One page of the queue; `with_counts=False` skips the per-filter counts (the list's
    own refresh does not show them)."""
    hits = search_hits(session, wanted.q) if wanted.q and wanted.q.strip() else None
    counting = _filtered(wanted, now, listing=False, hits=hits)
    listing = _filtered(wanted, now, listing=True, hits=hits)
    if _by_status_only(wanted):
        kept = _status_counts(session, select(Ticket), None)
        total = sum(kept.get(s, 0) for s in _statuses(wanted))
    else:
        total = _count(session, counting)
    pages, page = _pages(total, wanted.page)
    offset = (page - 1) * PAGE_SIZE
    if hits is not None:
        ranked = listing.order_by(
            hits.c.score.desc(), urgency(now), col(Ticket.created_at), col(Ticket.id)
        )
        rows = _rows(session, ranked, offset, PAGE_SIZE)
    else:
        rows = _urgent_first(session, counting, listing, _statuses(wanted), offset, now)
    found = counts(session, wanted.only_opd, now) if with_counts else {}
    return QueuePage(rows, total, page, pages, found)


def _by_status_only(wanted: QueueFilter) -> bool:
    """Nothing but a status narrows the queue: its size is in the kept status counts."""
    narrowing = (wanted.channel, wanted.category, wanted.opd, wanted.flag, wanted.only_opd)
    return (
        not any(narrowing)
        and not (wanted.overdue or wanted.answered)
        and not (wanted.q and wanted.q.strip())
    )


def _pages(total: int, wanted: int) -> tuple[int, int]:
    pages = max(1, -(-total // PAGE_SIZE))
    return pages, min(max(1, wanted), pages)


def _status_in(statuses: tuple[str, ...]) -> ColumnElement[bool]:
    if all(s in OPEN for s in statuses):
        return _open(statuses)
    return col(Ticket.status).in_(statuses)


def _rows(session: Session, query: Any, offset: int, limit: int) -> list[tuple[Ticket, Reporter]]:
    return [(t, r) for t, r in session.exec(query.offset(offset).limit(limit)).all()]


def _urgent_first(
    session: Session,
    counting: Any,
    listing: Any,
    statuses: tuple[str, ...],
    offset: int,
    now: datetime,
) -> list[tuple[Ticket, Reporter]]:
    """One page by urgency, then age. Finished tickets are all of the last urgency, so they are
    read apart, oldest first straight from an index, after the few open ones sorted whole:
    the same order as sorting everything, without sorting ten years of tickets."""
    open_ones = [s for s in statuses if s in OPEN]
    finished = [s for s in statuses if s not in OPEN]
    rows: list[tuple[Ticket, Reporter]] = []
    open_total = 0
    if open_ones:
        still_open = _open(tuple(open_ones))
        open_total = _count(session, counting.where(still_open)) if finished else 0
        ordered = listing.where(still_open).order_by(
            urgency(now), col(Ticket.created_at), col(Ticket.id)
        )
        rows = _rows(session, ordered, offset, PAGE_SIZE)
    if finished and len(rows) < PAGE_SIZE:
        done = listing.where(col(Ticket.status).in_(finished)).order_by(
            col(Ticket.created_at), col(Ticket.id)
        )
        rows += _rows(session, done, max(0, offset - open_total), PAGE_SIZE - len(rows))
    return rows


def counts(session: Session, only_opd: str | None, now: datetime) -> dict[str, dict[str, int]]:
    """How many visible tickets each filter value would show (open tickets, except by status)."""
    base = select(Ticket)
    if only_opd:
        base = base.where(forwarded_to(only_opd))
    result: dict[str, dict[str, int]] = {}
    status_counts = _status_counts(session, base, only_opd)
    status_counts["open"] = sum(status_counts.get(s, 0) for s in OPEN)
    status_counts["all"] = sum(status_counts.get(s, 0) for s in STATUSES)
    result["status"] = status_counts
    open_base = base.where(_open())
    for name, column in (
        ("channel", Ticket.channel),
        ("category", Ticket.category),
        ("opd", Ticket.opd),
    ):
        result[name] = {k: n for k, n in _grouped(session, open_base, column) if k}
    result["special"] = {
        "overdue": _count(session, base.where(overdue_clause(now))),
        "answered": _count(
            session, base.where(col(Ticket.answered).is_(True), _open((Status.NEW.value,)))
        ),
        **{
            flag: _count(session, open_base.where(_flag_clause(flag)))
            for flag in ("out_of_jurisdiction", "duplicate")
        },
    }
    return result


def _status_counts(session: Session, base: Any, only_opd: str | None) -> dict[str, int]:
    """Tickets per status: kept by the database for everyone's queue (store/status_counts.py),
    counted for an OPD's few."""
    if only_opd:
        return {status: n for status, n in _grouped(session, base, Ticket.status)}
    kept = session.exec(select(TicketStatusCount)).all()
    return {row.status: row.tickets for row in kept if row.tickets}


def _grouped(session: Session, base: Any, column: Any) -> list[tuple[Any, int]]:
    grouped = select(column, func.count()).select_from(Ticket)
    if base.whereclause is not None:
        grouped = grouped.where(base.whereclause)
    return [(k, n) for k, n in session.exec(grouped.group_by(column)).all()]


def _count(session: Session, query: Any) -> int:
    counted = query.with_only_columns(func.count(), maintain_column_froms=True).order_by(None)
    return session.exec(counted).one()
