"""The operators' queue: tickets filtered, counted per filter, what needs action first, by page."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func
from sqlmodel import Session, col, select

from store.deadlines import next_due, overdue_clause
from store.models import Reporter, Ticket, User
from store.statuses import OPEN, STATUSES, WITH_OPD, Status
from store.tickets import (
    forwarded_to,  # who an OPD's liaison sees, the same everywhere
    text_matches,  # the API's search, the same everywhere
)

PAGE_SIZE = 25
PAGE_SIZES = (25, 50, 100)
SORTS = ("urgency", "newest", "oldest", "activity")
# The saved views above the filters: each a question an operator asks of the queue all day.
VIEWS = ("mine", "unassigned", "overdue", "with_opd", "answered")
HOLDER_ROLES = ("operator", "supervisor", "admin")  # who may hold a ticket


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
    view: str | None = None  # one of VIEWS
    me: int | None = None  # the user asking, for the "mine" view
    sort: str = "urgency"  # one of SORTS
    per_page: int = PAGE_SIZE  # one of PAGE_SIZES


@dataclass(frozen=True, slots=True)
class QueuePage:
    rows: list[tuple[Ticket, Reporter]]
    total: int
    page: int
    pages: int
    counts: dict[str, dict[str, int]]
    holders: dict[int, str]  # who holds the listed tickets, by user id
    assignable: list[str]  # whom tickets may be assigned to (the bulk form)


def _flag_clause(flag: str) -> ColumnElement[bool]:
    """Tickets whose `TicketFlags` (store/flags.py) say so, read inside the JSON in SQL."""
    flags: Any = Ticket.flags
    if flag == "out_of_jurisdiction":
        return flags["out_of_jurisdiction"].as_boolean().is_(True)
    return flags["duplicate_of"].as_string().is_not(None)


def _scope(only_opd: str | None) -> Any:
    query = select(Ticket, Reporter).join(Reporter, col(Reporter.id) == Ticket.reporter_id)
    return query.where(forwarded_to(only_opd)) if only_opd else query


def _filtered(wanted: QueueFilter, now: datetime) -> Any:
    query = _scope(wanted.only_opd)
    if wanted.status == "open":
        query = query.where(col(Ticket.status).in_(OPEN))
    elif wanted.status in STATUSES:
        query = query.where(Ticket.status == wanted.status)
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
        query = query.where(col(Ticket.answered).is_(True), Ticket.status == Status.NEW.value)
    if wanted.flag in ("out_of_jurisdiction", "duplicate"):
        query = query.where(_flag_clause(wanted.flag))
    if wanted.q and wanted.q.strip():
        query = query.where(text_matches(wanted.q.strip()))
    if wanted.view in VIEWS:
        query = query.where(view_clause(wanted.view, wanted.me, now))
    return query


def view_clause(view: str, me: int | None, now: datetime) -> ColumnElement[bool]:
    """The tickets a saved view shows (open ones; the status filter narrows further)."""
    is_open = col(Ticket.status).in_(OPEN)
    clauses: dict[str, ColumnElement[bool]] = {
        "mine": and_(is_open, Ticket.assignee_id == (me or -1)),
        "unassigned": and_(is_open, col(Ticket.assignee_id).is_(None)),
        "overdue": overdue_clause(now),
        "with_opd": col(Ticket.status).in_(WITH_OPD),
        "answered": _answered(),
    }
    return clauses[view]


def _answered() -> ColumnElement[bool]:
    return and_(col(Ticket.answered).is_(True), Ticket.status == Status.NEW.value)


def order_by(sort: str, now: datetime) -> list[Any]:
    """Urgency (the default): overdue first, then the nearest deadline, then the newest;
    or newest, oldest, or latest activity first."""
    newest = [col(Ticket.created_at).desc(), col(Ticket.id).desc()]
    if sort == "oldest":
        return [col(Ticket.created_at), col(Ticket.id)]
    if sort == "newest":
        return newest
    if sort == "activity":
        return [col(Ticket.last_activity_at).desc(), col(Ticket.id).desc()]
    due = next_due()
    late = case((overdue_clause(now), 0), else_=1)
    return [late, case((due.is_(None), 1), else_=0), due, *newest]


def queue_page(
    session: Session, wanted: QueueFilter, now: datetime, *, with_counts: bool = True
) -> QueuePage:
    """One page of the queue, with the counts of every filter and view unless
    `with_counts=False`."""
    query = _filtered(wanted, now)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    size = wanted.per_page if wanted.per_page in PAGE_SIZES else PAGE_SIZE
    pages = max(1, -(-total // size))
    page = min(max(1, wanted.page), pages)
    ordered = query.order_by(*order_by(wanted.sort, now))
    rows = list(session.exec(ordered.offset((page - 1) * size).limit(size)).all())
    found = counts(session, wanted.only_opd, now, wanted.me) if with_counts else {}
    names = holder_names(session, (t for t, _ in rows))
    people = assignable_names(session) if wanted.only_opd is None else []
    return QueuePage([(t, r) for t, r in rows], total, page, pages, found, names, people)


def counts(
    session: Session, only_opd: str | None, now: datetime, me: int | None = None
) -> dict[str, dict[str, int]]:
    """How many visible tickets each filter value and view would show (open tickets, except
    by status)."""
    base = select(Ticket)
    if only_opd:
        base = base.where(forwarded_to(only_opd))
    result: dict[str, dict[str, int]] = {}
    status_counts = {status: n for status, n in _grouped(session, base, Ticket.status)}
    status_counts["open"] = sum(status_counts.get(s, 0) for s in OPEN)
    status_counts["all"] = sum(status_counts.get(s, 0) for s in STATUSES)
    result["status"] = status_counts
    open_base = base.where(col(Ticket.status).in_(OPEN))
    for name, column in (
        ("channel", Ticket.channel),
        ("category", Ticket.category),
        ("opd", Ticket.opd),
    ):
        result[name] = {k: n for k, n in _grouped(session, open_base, column) if k}
    result["special"] = {
        "overdue": _count(session, base.where(overdue_clause(now))),
        "answered": _count(session, base.where(_answered())),
        **{
            flag: _count(session, open_base.where(_flag_clause(flag)))
            for flag in ("out_of_jurisdiction", "duplicate")
        },
    }
    result["views"] = {
        view: _count(session, base.where(view_clause(view, me, now))) for view in VIEWS
    }
    return result


def holder_names(session: Session, tickets: Iterable[Ticket]) -> dict[int, str]:
    """The usernames of the operators holding `tickets`, by user id."""
    ids = {t.assignee_id for t in tickets if t.assignee_id is not None}
    if not ids:
        return {}
    rows = session.exec(select(User.id, User.username).where(col(User.id).in_(ids))).all()
    return {user_id: name for user_id, name in rows if user_id is not None}


def assignable_names(session: Session) -> list[str]:
    """Usernames a ticket may be assigned to: staff who work the queue, not disabled."""
    rows = session.exec(
        select(User.username)
        .where(col(User.role).in_(HOLDER_ROLES), col(User.disabled_at).is_(None))
        .order_by(col(User.username))
    ).all()
    return list(rows)


def _grouped(session: Session, base: Any, column: Any) -> list[tuple[Any, int]]:
    sub = base.subquery()
    grouped = select(sub.c[column.key], func.count()).group_by(sub.c[column.key])
    return [(k, n) for k, n in session.exec(grouped).all()]


def _count(session: Session, query: Any) -> int:
    return session.exec(select(func.count()).select_from(query.subquery())).one()
