"""Operators' actions on a ticket: one state-machine transition, its side effects and audit event,
all in one transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from store.db import Database
from store.models import Ticket, TicketEvent
from triage.config import CategoryConfig, OpdConfig
from triage.outbox import enqueue
from triage.states import Action, Resolution, Status, TicketFacts, TransitionError, decide

# Renders a text to the reporter from its template key and values (triage.messages.render).
Texts = Callable[..., str]
# Sets a forwarded ticket's due times: (ticket, category, now) -> {"opd_due_at": ..., "due_at": ...}
Deadlines = Callable[[Ticket, CategoryConfig | None, datetime], dict[str, datetime | None]]


class TicketNotFound(LookupError):
    pass


class ActionInvalid(ValueError):
    """The action's body is incomplete or names something unknown; the API answers 422."""


@dataclass(frozen=True, slots=True)
class ActionRequest:
    action: Action
    category: str | None = None
    opd: str | None = None
    message: str | None = None
    resolution: Resolution | None = None
    into: str | None = None
    text: str | None = None


@dataclass(frozen=True)
class TriageRules:
    categories: dict[str, CategoryConfig] = field(default_factory=dict)
    opds: dict[str, OpdConfig] = field(default_factory=dict)
    clarification_timeout: timedelta = timedelta(days=3)
    reopen_window: timedelta = timedelta(days=7)
    region: str = ""


class TicketActions:
    def __init__(
        self,
        db: Database,
        rules: TriageRules,
        clock: Callable[[], datetime],
        *,
        texts: Texts,
        deadlines: Deadlines | None = None,
        on_reply_queued: Callable[[], None] | None = None,
    ) -> None:
        self.db = db
        self.rules = rules
        self.clock = clock
        self.texts = texts
        self.deadlines = deadlines
        self.on_reply_queued = on_reply_queued

    def apply(self, number: str, request: ActionRequest, actor: str) -> None:
        """Apply one action; raises TicketNotFound, ActionInvalid or TransitionError."""
        queued = False
        with self.db.write() as session:
            ticket = _locked_ticket(session, number)
            now = self.clock()
            outcome = decide(
                TicketFacts(
                    Status(ticket.status),
                    verified=ticket.verified_at is not None,
                    resolution=Resolution(ticket.resolution) if ticket.resolution else None,
                ),
                request.action,
                resolution=request.resolution,
            )
            step = _Step(self, session, ticket, request, actor, now)
            data = step.run()
            ticket.status = outcome.to_state.value
            ticket.resolution = outcome.resolution.value if outcome.resolution else None
            if outcome.to_state in (Status.CLOSED, Status.RESOLVED) and outcome.changed:
                ticket.closed_at = now
            ticket.last_activity_at = max(ticket.last_activity_at, now)
            session.add(ticket)
            session.add(
                TicketEvent(
                    ticket_id=ticket.id or 0,
                    at=now,
                    actor=actor,
                    action=request.action.value,
                    from_state=outcome.from_state.value,
                    to_state=outcome.to_state.value,
                    note=request.text or request.message or step.sent_text,
                    data=data,
                )
            )
            queued = step.sent_text is not None
        if queued and self.on_reply_queued:
            self.on_reply_queued()


class _Step:
    """The side effects of one action, run inside the action's transaction."""

    def __init__(
        self,
        actions: TicketActions,
        session: Session,
        ticket: Ticket,
        request: ActionRequest,
        actor: str,
        now: datetime,
    ) -> None:
        self.a = actions
        self.session = session
        self.ticket = ticket
        self.request = request
        self.actor = actor
        self.now = now
        self.sent_text: str | None = None

    def run(self) -> dict[str, Any]:
        return getattr(self, f"_{self.request.action.value}")()

    def _say(self, text: str | None, template: str, **values: Any) -> None:
        chosen = (text or "").strip() or self.a.texts(
            template, number=self.ticket.number, region=self.a.rules.region, **values
        )
        enqueue(self.session, self.ticket, chosen, author=self.actor, now=self.now)
        self.sent_text = chosen

    def _verify(self) -> dict[str, Any]:
        category = self._category(self.request.category)
        opd = (
            self._opd(self.request.opd or category.opd)
            if (self.request.opd or category.opd)
            else None
        )
        self.ticket.category = category.code
        self.ticket.opd = opd.code if opd else None
        self.ticket.verified_at = self.now
        return {"category": category.code, "opd": self.ticket.opd}

    def _request_clarification(self) -> dict[str, Any]:
        self._say(self.request.message, "clarification_request")
        self.ticket.clarification_due_at = self.now + self.a.rules.clarification_timeout
        self.ticket.answered = False
        return {"due_at": self.ticket.clarification_due_at.isoformat()}

    def _reject(self) -> dict[str, Any]:
        assert self.request.resolution is not None  # decide() checked it
        self._say(self.request.message, f"reject_{self.request.resolution.value}")
        return {"resolution": self.request.resolution.value}

    def _forward(self) -> dict[str, Any]:
        code = self.request.opd or self.ticket.opd
        if not code:
            raise ActionInvalid("forward needs an OPD: give `opd` or verify with a category first")
        self.ticket.opd = self._opd(code).code
        category = self.a.rules.categories.get(self.ticket.category or "")
        if self.a.deadlines:
            for name, value in self.a.deadlines(self.ticket, category, self.now).items():
                setattr(self.ticket, name, value)
        return {"opd": self.ticket.opd}

    def _acknowledge(self) -> dict[str, Any]:
        return {}

    def _resolve(self) -> dict[str, Any]:
        if not (self.request.message or "").strip():
            raise ActionInvalid("resolve needs `message`: the answer sent to the reporter")
        self._say(self.request.message, "resolved")
        return {}

    def _reopen(self) -> dict[str, Any]:
        closed_at = self.ticket.closed_at
        if closed_at and self.now - closed_at > self.a.rules.reopen_window:
            raise TransitionError(
                "the ticket was closed too long ago to reopen",
                status=Status(self.ticket.status),
                action=Action.REOPEN,
            )
        self.ticket.closed_at = None
        self.ticket.merged_into = None
        return {}

    def _merge(self) -> dict[str, Any]:
        into = (self.request.into or "").strip().upper()
        if not into:
            raise ActionInvalid("merge needs `into`: the number of the ticket to follow")
        if into == self.ticket.number:
            raise ActionInvalid("a ticket cannot be merged into itself")
        target = self.session.exec(select(Ticket).where(Ticket.number == into)).first()
        if target is None:
            raise ActionInvalid(f"ticket {into} does not exist")
        if target.status in (Status.CLOSED.value, Status.RESOLVED.value):
            raise ActionInvalid(f"ticket {into} is closed; merge into an open ticket")
        self.ticket.merged_into = into
        self._say(None, "merged", into=into)
        self.session.add(
            TicketEvent(
                ticket_id=target.id or 0,
                at=self.now,
                actor=self.actor,
                action="merged_from",
                from_state=target.status,
                to_state=target.status,
                data={"from": self.ticket.number},
            )
        )
        return {"into": into}

    def _reply(self) -> dict[str, Any]:
        if not (self.request.message or "").strip():
            raise ActionInvalid("reply needs `message`")
        self._say(self.request.message, "reply")
        return {}

    def _note(self) -> dict[str, Any]:
        if not (self.request.text or "").strip():
            raise ActionInvalid("note needs `text`")
        return {}

    def _category(self, code: str | None) -> CategoryConfig:
        if not code:
            raise ActionInvalid("verify needs `category`")
        if code not in self.a.rules.categories:
            raise ActionInvalid(f"unknown category {code!r}")
        return self.a.rules.categories[code]

    def _opd(self, code: str) -> OpdConfig:
        if code not in self.a.rules.opds:
            raise ActionInvalid(f"unknown OPD {code!r}")
        return self.a.rules.opds[code]


def _locked_ticket(session: Session, number: str) -> Ticket:
    query = select(Ticket).where(Ticket.number == number.upper())
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    ticket = session.exec(query).first()
    if ticket is None:
        raise TicketNotFound(number)
    return ticket
