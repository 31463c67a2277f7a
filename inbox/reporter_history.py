"""The reporter's other reports and the earlier report a ticket follows, as a viewer may see
them: the ticket page's panel and the API's ticket share this one rule."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session

from inbox.sessions import STAFF
from store import tickets as ticket_queries
from store.models import Ticket, User


@dataclass(frozen=True)
class ReporterHistory:
    follows: Ticket | None = None  # the reporter's earlier ticket this one follows
    others: list[Ticket] = field(default_factory=list)  # newest first


def reporter_history(session: Session, ticket: Ticket, user: User) -> ReporterHistory:
    """Staff see every other report of the reporter; an OPD's liaison only those forwarded to
    its OPD now, like every ticket it reads."""
    opd = None if user.role in STAFF else (user.opd or "")
    follows = session.get(Ticket, ticket.hints.follows_ticket_id or 0)
    if follows is not None and opd is not None and not ticket_queries.is_forwarded_to(follows, opd):
        follows = None
    others = ticket_queries.reporter_history(session, ticket, opd=opd)
    return ReporterHistory(follows, others)
