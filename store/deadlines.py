"""The clocks a ticket runs against (verify, clarification, OPD answer, case): which one is next,
whether it has passed, and the same rules as SQL for the queue's order and overdue filter."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, or_
from sqlmodel import col

from store.models import Ticket
from store.statuses import OPEN, WITH_OPD, Status

# Each clock: the column holding its due time and the states in which it runs. The verify
# clock is the operators' (SP4N-LAPOR!: verify within 3 working days), the OPD clock the
# department's, the resolve clock the whole case's.
CLOCKS: dict[str, tuple[str, tuple[str, ...]]] = {
    "verify": ("verify_due_at", (Status.NEW.value,)),
    "clarification": ("clarification_due_at", (Status.CLARIFYING.value,)),
    "opd": ("opd_due_at", WITH_OPD),
    "resolve": ("due_at", WITH_OPD),
}
SOON = timedelta(hours=24)  # a deadline this close is shown as nearing


@dataclass(frozen=True, slots=True)
class Deadline:
    clock: str  # a key of CLOCKS
    due: datetime

    def state(self, now: datetime) -> str:
        """ "late" once passed, "soon" within SOON of it, else "ok" (the page's colour)."""
        if self.due < now:
            return "late"
        return "soon" if self.due - now < SOON else "ok"


def running(ticket: Ticket) -> list[Deadline]:
    """The clocks running on `ticket` now, earliest first."""
    found = [
        Deadline(clock, due)
        for clock, (column, states) in CLOCKS.items()
        if ticket.status in states and (due := getattr(ticket, column)) is not None
    ]
    return sorted(found, key=lambda d: d.due)


def next_deadline(ticket: Ticket) -> Deadline | None:
    """The earliest running clock: the one that passes (or passed) first."""
    found = running(ticket)
    return found[0] if found else None


def is_overdue(ticket: Ticket, now: datetime) -> bool:
    return any(d.due < now for d in running(ticket))


def overdue_clause(now: datetime) -> ColumnElement[bool]:
    """`is_overdue` in SQL: some clock running in the ticket's state has passed."""
    return or_(
        *(
            and_(col(Ticket.status).in_(states), col(getattr(Ticket, column)) < now)
            for column, states in CLOCKS.values()
        )
    )


def next_due() -> ColumnElement[Any]:
    """`next_deadline(...).due` in SQL (NULL when no clock runs), for ordering by it."""
    whens = []
    for status in OPEN:
        columns = [getattr(Ticket, c) for c, states in CLOCKS.values() if status in states]
        if columns:
            whens.append((Ticket.status == status, _earliest(columns)))
    return case(*whens, else_=None)


def _earliest(columns: Iterable[Any]) -> Any:
    """The earliest non-NULL of `columns`, the same on SQLite (whose min() is NULL with any
    NULL) and PostgreSQL (whose LEAST skips NULLs)."""
    columns = list(columns)
    earliest = columns[0]
    for other in columns[1:]:
        earliest = case(
            (col(earliest).is_(None), other),
            (col(other).is_(None), earliest),
            (earliest <= other, earliest),
            else_=other,
        )
    return earliest
