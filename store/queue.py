"""The operators' queue: tickets filtered, counted per filter, what needs action first, by page."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func
from sqlmodel import Session, col, select

from store import deadlines
from store.deadlines import next_due
from store.models import Reporter, Ticket, TicketStatusCount, User
from store.planner import rarely
from store.statuses import OPEN, STATUSES, WITH_OPD, Status
from store.tickets import (
    ListedTicket,
    forwarded_to,  # who an OPD's liaison sees, the same everywhere
    search_hits,  # the API's search, the same everywhere
)

PAGE_SIZE = 25
PAGE_SIZES = (25, 50, 100)
SORTS = ("urgency", "newest", "oldest", "activity")
# The saved views above the filters: each a question an operator asks of the queue all day.
VIEWS = ("mine", "unassigned", "overdue", "with_opd", "answered", "spam")
SPAM = "spam"  # the resolution of reports closed as spam (triage.states.Resolution.SPAM)
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

    @property
    def size(self) -> int:
        return self.per_page if self.per_page in PAGE_SIZES else PAGE_SIZE


@dataclass(frozen=True, slots=True)
class QueuePage:
    rows: list[tuple[Ticket, Reporter]]
    total: int
    page: int
    pages: int
    counts: dict[str, dict[str, int]]
    holders: dict[int, str]  # who holds the listed tickets, by user id
    assignable: list[str]  # whom tickets may be assigned to (the bulk form)


def overdue_clause(now: datetime) -> ColumnElement[bool]:
    """Open with a clock past its time (store/deadlines.py); `rarely`, as open tickets are few."""
    return and_(_open(), deadlines.overdue_clause(now))


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
        query = query.where(_answered())
    if wanted.flag in ("out_of_jurisdiction", "duplicate"):
        query = query.where(_flag_clause(wanted.flag))
    if wanted.view in VIEWS:
        query = query.where(view_clause(wanted.view, wanted.me, now))
    return query


def view_clause(view: str, me: int | None, now: datetime) -> ColumnElement[bool]:
    """The tickets a saved view shows (open ones, but for the reports closed as spam, which
    the default view leaves out; the status filter narrows further)."""
    # Built lazily: an overdue clause alone is a few hundred microseconds of Python.
    clauses: dict[str, Callable[[], ColumnElement[bool]]] = {
        "mine": lambda: and_(_open(), Ticket.assignee_id == (me or -1)),
        "unassigned": lambda: and_(_open(), col(Ticket.assignee_id).is_(None)),
        "overdue": lambda: overdue_clause(now),
        "with_opd": lambda: _open(WITH_OPD),
        "answered": _answered,
        "spam": lambda: Ticket.resolution == SPAM,  # ix_tickets_resolution
    }
    return clauses[view]()


def _answered() -> ColumnElement[bool]:
    return and_(col(Ticket.answered).is_(True), _open((Status.NEW.value,)))


def _statuses(wanted: QueueFilter) -> tuple[str, ...]:
    if wanted.status == "open" and wanted.view == "spam":
        return STATUSES  # closed ones: the view names its own
    if wanted.status == "open":
        return OPEN
    return (wanted.status,) if wanted.status in STATUSES else STATUSES


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
    """One page of the queue; `with_counts=False` skips the per-filter counts (the list's
    own refresh does not show them)."""
    hits = search_hits(session, wanted.q) if wanted.q and wanted.q.strip() else None
    counting = _filtered(wanted, now, listing=False, hits=hits)
    listing = _filtered(wanted, now, listing=True, hits=hits)
    size = wanted.size
    if hits is not None:
        ranked = listing.order_by(hits.c.score.desc(), *order_by(wanted.sort, now))
        rows, total, page = _found_page(session, ranked, counting, wanted)
        pages, _ = _pages(total, page, size)
    else:
        rows, total, pages, page = _page(session, counting, listing, wanted, now)
    found = counts(session, wanted.only_opd, now, wanted.me) if with_counts else {}
    names = holder_names(session, (t for t, _ in rows))
    people = assignable_names(session) if wanted.only_opd is None else []
    return QueuePage(rows, total, page, pages, found, names, people)


def _found_page(
    session: Session, ranked: Any, counting: Any, wanted: QueueFilter
) -> tuple[list[tuple[Ticket, Reporter]], int, int]:
    """A page of search results and how many there are, in one statement (`count(*) OVER ()`):
    the search runs once, not once to count and again to list. Only a page past the end asks
    again, for the count and then the last page."""
    size, page = wanted.size, max(1, wanted.page)
    with_total = ranked.add_columns(func.count().over())
    found = session.exec(with_total.offset((page - 1) * size).limit(size)).all()
    if found:
        return [(t, r) for t, r, _ in found], found[0][2], page
    if page == 1:
        return [], 0, 1
    total = _count(session, counting)
    _, page = _pages(total, page, size)
    return _rows(session, ranked, (page - 1) * size, size), total, page


def _page(
    session: Session, counting: Any, listing: Any, wanted: QueueFilter, now: datetime
) -> tuple[list[tuple[Ticket, Reporter]], int, int, int]:
    """A page of the queue without a search, its total (kept or counted), pages and number."""
    if _by_status_only(wanted):
        kept = _status_counts(session, select(Ticket), None)
        total = sum(kept.get(s, 0) for s in _statuses(wanted))
    else:
        total = _count(session, counting)
    size = wanted.size
    pages, page = _pages(total, wanted.page, size)
    offset = (page - 1) * size
    if wanted.sort in ("urgency", "newest"):
        rows = _open_first(session, counting, listing, wanted, offset, now)
    else:
        rows = _rows(session, listing.order_by(*order_by(wanted.sort, now)), offset, size)
    return rows, total, pages, page


def _by_status_only(wanted: QueueFilter) -> bool:
    """Nothing but a status narrows the queue: its size is in the kept status counts."""
    narrowing = (wanted.channel, wanted.category, wanted.opd, wanted.flag, wanted.only_opd)
    return (
        not any(narrowing)
        and not (wanted.overdue or wanted.answered or wanted.view)
        and not (wanted.q and wanted.q.strip())
    )


def _pages(total: int, wanted: int, size: int) -> tuple[int, int]:
    pages = max(1, -(-total // size))
    return pages, min(max(1, wanted), pages)


def _status_in(statuses: tuple[str, ...]) -> ColumnElement[bool]:
    if all(s in OPEN for s in statuses):
        return _open(statuses)
    return col(Ticket.status).in_(statuses)


def _rows(session: Session, query: Any, offset: int, limit: int) -> list[tuple[Ticket, Reporter]]:
    return [(t, r) for t, r in session.exec(query.offset(offset).limit(limit)).all()]


def _open_first(
    session: Session,
    counting: Any,
    listing: Any,
    wanted: QueueFilter,
    offset: int,
    now: datetime,
) -> list[tuple[Ticket, Reporter]]:
    """One page by urgency (or newest first). Finished tickets have no deadline, so by urgency
    they come after the open ones, newest first like them: they are read apart, straight from
    an index, after the few open ones sorted whole; the same order as sorting everything,
    without sorting ten years of tickets."""
    statuses, size = _statuses(wanted), wanted.size
    open_ones = [s for s in statuses if s in OPEN]
    finished = [s for s in statuses if s not in OPEN]
    if wanted.sort == "newest" or not open_ones:
        ordered = listing.order_by(*order_by("newest", now))
        return _rows(session, ordered, offset, size)
    still_open = _open(tuple(open_ones))
    open_total = _count(session, counting.where(still_open)) if finished else 0
    ordered = listing.where(still_open).order_by(*order_by("urgency", now))
    rows = _rows(session, ordered, offset, size)
    if finished and len(rows) < size:
        done = listing.where(col(Ticket.status).in_(finished)).order_by(*order_by("newest", now))
        rows += _rows(session, done, max(0, offset - open_total), size - len(rows))
    return rows


def counts(
    session: Session, only_opd: str | None, now: datetime, me: int | None = None
) -> dict[str, dict[str, int]]:
    """How many visible tickets each filter value and view would show (open tickets, except
    by status and the spam view)."""
    base = select(Ticket)
    if only_opd:
        base = base.where(forwarded_to(only_opd))
    result: dict[str, dict[str, int]] = {}
    status_counts = _status_counts(session, base, only_opd)
    status_counts["open"] = sum(status_counts.get(s, 0) for s in OPEN)
    status_counts["all"] = sum(status_counts.get(s, 0) for s in STATUSES)
    result["status"] = status_counts
    result.update(_open_counts(session, base, now, me))
    spam = _count(session, base.where(view_clause(SPAM, me, now)))
    result["views"] = {view: spam if view == SPAM else result["views"][view] for view in VIEWS}
    return result


def _open_counts(
    session: Session, base: Any, now: datetime, me: int | None
) -> dict[str, dict[str, int]]:
    """Every count of open tickets in one statement: the open tickets grouped by channel,
    category and OPD (a few hundred groups at most), each group with how many of its tickets
    each special filter and view takes, summed here. One statement, not fourteen: each costs
    a round trip and the building of its SQL, more than the counting itself."""
    tallies: dict[tuple[str, str], ColumnElement[bool]] = {
        ("special", "overdue"): overdue_clause(now),
        ("special", "answered"): _answered(),
        **{("special", flag): _flag_clause(flag) for flag in ("out_of_jurisdiction", "duplicate")},
        **{("views", v): view_clause(v, me, now) for v in ("mine", "unassigned", "with_opd")},
    }
    groups = (Ticket.channel, Ticket.category, Ticket.opd)
    grouped = select(*groups, func.count(), *(func.count().filter(c) for c in tallies.values()))
    grouped = grouped.select_from(Ticket).where(_open())
    if base.whereclause is not None:
        grouped = grouped.where(base.whereclause)
    result: dict[str, dict[str, int]] = {name: {} for name in ("channel", "category", "opd")}
    result["special"] = {name: 0 for group, name in tallies if group == "special"}
    result["views"] = {name: 0 for group, name in tallies if group == "views"}
    for row in session.exec(grouped.group_by(*groups)).all():
        keys, size, taken = row[:3], row[3], row[4:]
        for name, key in zip(("channel", "category", "opd"), keys, strict=True):
            if key:
                result[name][key] = result[name].get(key, 0) + size
        for (group, name), n in zip(tallies, taken, strict=True):
            result[group][name] += n
    # Two views are special filters by another name.
    result["views"]["overdue"] = result["special"]["overdue"]
    result["views"]["answered"] = result["special"]["answered"]
    return result


def holder_names(session: Session, tickets: Iterable[Ticket | ListedTicket]) -> dict[int, str]:
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
