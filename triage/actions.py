"""Operators' actions on a ticket: one state-machine transition, its side effects and audit event,
all in one transaction."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from sqlmodel import Session, select

from observability.context import bound
from store.db import Database
from store.flags import AnswerFile, OpdAnswer, merged
from store.models import Reporter, Ticket, TicketEvent, User
from store.queue import HOLDER_ROLES
from store.stats import note_response
from store.text import is_storable, storable_or_none
from triage import checkback, messages
from triage.action_requests import CLARIFIABLE_FACTS, ActionRequest, Forward, Verify, given
from triage.config import CategoryConfig, OpdConfig, TriageConfig
from triage.merged_outcome import tell_merged
from triage.outbox import enqueue
from triage.sla import WorkCalendar, opd_answer_term
from triage.states import (
    FINAL_STATES,
    Action,
    Resolution,
    Status,
    TicketFacts,
    TransitionError,
    decide,
)

# Actions that answer the operators' own clock ("verify or ask for clarification in N days").
OPERATOR_CLOCK_STOPS = frozenset(
    {
        Action.VERIFY,
        Action.REQUEST_CLARIFICATION,
        Action.REJECT,
        Action.MERGE,
        Action.RESOLVE,
        Action.MARK_SPAM,
    }
)


class TicketNotFound(LookupError):
    pass


class ActionInvalid(ValueError):
    """The action's body is incomplete or names something unknown; the API answers 422."""


class HeldByOther(Exception):
    """Another operator holds the ticket: the page asks whether to act anyway, the API answers
    409 until the request is repeated with the confirmation."""

    def __init__(self, holder: str, action: Action) -> None:
        super().__init__(f"{holder} holds this ticket; confirm to {action.value} it anyway")
        self.holder = holder
        self.action = action


# What anyone may do on a ticket another operator holds without being asked first.
FREE_ON_HELD = frozenset({Action.NOTE, Action.MARK_READ})


@dataclass(frozen=True)
class TriageRules:
    calendar: WorkCalendar
    triage: TriageConfig = field(default_factory=TriageConfig)
    categories: dict[str, CategoryConfig] = field(default_factory=dict)
    opds: dict[str, OpdConfig] = field(default_factory=dict)
    region: str = ""
    locale: str = "id"  # the language of texts to reporters

    @property
    def tz(self) -> tzinfo:
        return self.calendar.tz


class TicketActions:
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

    def apply(
        self,
        number: str,
        request: ActionRequest,
        actor: str,
        *,
        confirmed: bool = False,
        files: Sequence[AnswerFile] = (),
    ) -> None:
        """Apply one action; raises TicketNotFound, ActionInvalid, TransitionError, or
        HeldByOther when another operator holds the ticket and `confirmed` is not set.
        `files`, already stored and checked (inbox/uploads.py), go with an `answer`."""
        with bound(ticket=number):  # every log line of the action names its ticket
            self._apply(number, request, actor, confirmed, tuple(files))

    def _apply(
        self,
        number: str,
        request: ActionRequest,
        actor: str,
        confirmed: bool,
        files: tuple[AnswerFile, ...],
    ) -> None:
        queued = False
        request = _storable(request)
        if files and request.action is not Action.ANSWER:
            raise ActionInvalid(f"only the OPD's answer takes files, not {request.action.value}")
        with self.db.write() as session:
            ticket = _locked_ticket(session, number)
            now = self.clock()
            holder = _holder(session, ticket)
            if holder not in (None, actor) and not confirmed:
                if request.action not in FREE_ON_HELD:
                    raise HeldByOther(holder, request.action)
            for step in _steps(request):  # verify-and-forward: both or neither
                queued = self._one(session, ticket, step, actor, now, files) or queued
        if queued and self.on_reply_queued:
            self.on_reply_queued()

    def _one(
        self,
        session: Session,
        ticket: Ticket,
        request: ActionRequest,
        actor: str,
        now: datetime,
        files: tuple[AnswerFile, ...] = (),
    ) -> bool:
        """One transition with its side effects and audit event; True if a message was queued."""
        outcome = decide(
            TicketFacts(
                Status(ticket.status),
                verified=ticket.verified_at is not None,
                resolution=Resolution(ticket.resolution) if ticket.resolution else None,
            ),
            request.action,
            resolution=given(request, "resolution"),
        )
        step = _Step(self, session, ticket, request, actor, now, files)
        data = step.run()
        if request.action in OPERATOR_CLOCK_STOPS:
            ticket.verify_due_at = None  # the operators have acted on the report
        ticket.status = outcome.to_state.value
        ticket.resolution = outcome.resolution.value if outcome.resolution else None
        told_merged = False
        if outcome.to_state in FINAL_STATES and outcome.changed:
            ticket.closed_at = now
            ticket.open_key = None  # the reporter's next report may open a new ticket
            told = tell_merged(
                session,
                ticket,
                locale=self.rules.locale,
                region=self.rules.region,
                author=actor,
                now=now,
            )
            if told:  # the reporters of the tickets merged into this one hear the outcome
                data = {**data, "told_merged": told}
                told_merged = True
        ticket.last_activity_at = max(ticket.last_activity_at, now)
        # Every reply a person sends is an action, so the first action is the first response.
        note_response(ticket, actor, now)
        session.add(ticket)
        session.add(
            TicketEvent(
                ticket_id=ticket.id or 0,
                at=now,
                actor=actor,
                action=request.action.value,
                from_state=outcome.from_state.value,
                to_state=outcome.to_state.value,
                note=given(request, "text") or given(request, "message") or step.sent_text,
                data=data,
            )
        )
        return step.sent_text is not None or told_merged


def _steps(request: ActionRequest) -> list[ActionRequest]:
    """The transitions one request makes: verify with `forward` is a verify, then a forward to
    the OPD the verify settled on."""
    if isinstance(request, Verify) and request.forward:
        return [request.model_copy(update={"forward": False}), Forward(mode=request.mode)]
    return [request]


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
        files: tuple[AnswerFile, ...] = (),
    ) -> None:
        self.a = actions
        self.files = files
        self.session = session
        self.ticket = ticket
        self.request = request
        self.actor = actor
        self.now = now
        self.sent_text: str | None = None

    def run(self) -> dict[str, Any]:
        return getattr(self, f"_{self.request.action.value}")()

    def _say(
        self,
        text: str | None,
        template: str | None = None,
        *,
        typed: bool = True,
        files: Sequence[AnswerFile] = (),
        **values: Any,
    ) -> None:
        """Queue a message to the reporter: the operator's text, else the template's."""
        chosen = (text or "").strip()
        automatic = not chosen or not typed
        if not chosen and template:
            chosen = messages.render(
                template,
                self.a.rules.locale,
                number=self.ticket.number,
                region=self.a.rules.region,
                **values,
            )
        mode = given(self.request, "mode")
        options = {"mode": mode} if mode else None
        enqueue(
            self.session,
            self.ticket,
            chosen,
            author=self.actor,
            now=self.now,
            options=options,
            automatic=automatic,
            files=files,
        )
        self.sent_text = chosen

    def _due_text(self, moment: datetime) -> str:
        return messages.format_due(moment, self.a.rules.tz, self.a.rules.locale)

    def _verify(self) -> dict[str, Any]:
        category = self._category(self.request.category)
        opd = (
            self._opd(self.request.opd or category.opd)
            if (self.request.opd or category.opd)
            else None
        )
        self.ticket.category = category.code
        self.ticket.opd = opd.code if opd else None
        # The OPD is only proposed here: no OPD has the ticket until it is forwarded.
        self.ticket.opd_due_at = None
        self.ticket.verified_at = self.now
        return {"category": category.code, "opd": self.ticket.opd}

    def _request_clarification(self) -> dict[str, Any]:
        facts = self.request.facts or tuple(self.ticket.hints.missing) or ("supporting_data",)
        unknown = sorted(set(facts) - set(CLARIFIABLE_FACTS))
        if unknown:
            raise ActionInvalid(
                f"unknown facts {unknown}; ask for any of {', '.join(CLARIFIABLE_FACTS)}"
            )
        rules = self.a.rules
        due = rules.calendar.due(self.now, rules.triage.clarification_timeout)
        typed = (self.request.message or "").strip()
        text = typed or messages.clarification(
            facts, self.a.rules.locale, number=self.ticket.number, deadline=self._due_text(due)
        )
        self._say(text, typed=bool(typed))
        self.ticket.clarification_due_at = due
        self.ticket.answered = False
        return {"facts": list(facts), "due_at": due.isoformat()}

    def _reject(self) -> dict[str, Any]:
        assert self.request.resolution is not None  # decide() checked it
        self._say(self.request.message, f"reject.{self.request.resolution.value}")
        return {"resolution": self.request.resolution.value}

    def _forward(self) -> dict[str, Any]:
        code = self.request.opd or self.ticket.opd
        if not code:
            raise ActionInvalid("forward needs an OPD: give `opd` or verify with a category first")
        opd = self._opd(code)
        self.ticket.opd = opd.code
        category = self.a.rules.categories.get(self.ticket.category or "")
        calendar, triage = self.a.rules.calendar, self.a.rules.triage
        self.ticket.opd_due_at = calendar.due(self.now, opd_answer_term(triage, category))
        if self.ticket.due_at is None:  # the overall clock runs from verification
            self.ticket.due_at = calendar.due(
                self.ticket.verified_at or self.now, triage.resolve_within
            )
        self._say(None, "forwarded", opd=opd.name, deadline=self._due_text(self.ticket.opd_due_at))
        return {
            "opd": opd.code,
            "opd_due_at": self.ticket.opd_due_at.isoformat(),
            "due_at": self.ticket.due_at.isoformat(),
        }

    def _acknowledge(self) -> dict[str, Any]:
        return {}

    def _resolve(self) -> dict[str, Any]:
        answer = OpdAnswer.read(self.ticket.flags)
        # "review": the OPD's answer not yet sent goes out now with its files, as the page
        # offers it (edited or not), or with the invitation to say if the problem is not fixed.
        unsent = answer.opd_answer_files if not answer.opd_answer_sent else []
        if (self.request.message or "").strip():
            self._say(self.request.message, files=unsent)
        elif answer.opd_answer and not answer.opd_answer_sent:
            closing = self._template("resolved")
            self._say(f"{answer.opd_answer}\n\n{closing}", typed=False, files=unsent)
        elif answer.opd_answer:
            self._say(None, "resolved")  # "direct": the answer went out already
        else:
            raise ActionInvalid("resolve needs `message`: the answer sent to the reporter")
        if answer.opd_answer and not answer.opd_answer_sent:
            self.ticket.flags = merged(self.ticket.flags, OpdAnswer(opd_answer_sent=True))
        # The check-back: is it fixed, and how satisfied is the reporter (triage/checkback.py)?
        # Not under a public post: a second reply there would be public, or refused (Meta
        # allows one private reply per comment).
        if not self.ticket.hints.public:
            question = self._template("checkback")
            enqueue(
                self.session,
                self.ticket,
                question,
                author=self.actor,
                now=self.now,
                automatic=True,
                choices=checkback.choices(self.a.rules.locale),
            )
        return {}

    def _mark_spam(self) -> dict[str, Any]:
        reporter = self._reporter()
        if reporter.spam_marked_at is not None and Status(self.ticket.status) in FINAL_STATES:
            raise ActionInvalid("the reporter is already marked as spam")
        reporter.spam_marked_at, reporter.spam_marked_by = self.now, self.actor
        self.session.add(reporter)
        return {"reporter": reporter.id}

    def _unmark_spam(self) -> dict[str, Any]:
        reporter = self._reporter()
        if reporter.spam_marked_at is None:
            raise ActionInvalid("the reporter is not marked as spam")
        reporter.spam_marked_at = reporter.spam_marked_by = None
        self.session.add(reporter)
        return {"reporter": reporter.id}

    def _reporter(self) -> Reporter:
        reporter = self.session.get(Reporter, self.ticket.reporter_id)
        assert reporter is not None
        return reporter

    def _template(self, key: str) -> str:
        rules = self.a.rules
        return messages.render(key, rules.locale, number=self.ticket.number, region=rules.region)

    def _reopen(self) -> dict[str, Any]:
        closed_at = self.ticket.closed_at
        if closed_at and self.now - closed_at > self.a.rules.triage.reopen_window:
            raise TransitionError(
                "the ticket was closed too long ago to reopen",
                status=Status(self.ticket.status),
                action=Action.REOPEN,
            )
        self.ticket.closed_at = None
        self.ticket.merged_into = None
        # Back with the operators: the OPD that had it no longer does (store.tickets.forwarded_to).
        self.ticket.opd_due_at = None
        self.ticket.verify_due_at = self.a.rules.calendar.due(
            self.now, self.a.rules.triage.verify_within
        )
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
        self._say(None, "merged", original=into)
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

    def _answer(self) -> dict[str, Any]:
        text = (self.request.message or "").strip()
        if not text:
            raise ActionInvalid("answer needs `message`: the OPD's answer to the reporter")
        direct = self.a.rules.triage.opd_answers == "direct"
        if direct:
            self._say(text, files=self.files)
        answer = OpdAnswer(
            opd_answer=text,
            opd_answer_files=list(self.files),
            opd_answer_by=self.actor,
            opd_answer_at=self.now.isoformat(),
            opd_answer_sent=direct,
        )
        self.ticket.flags = merged(self.ticket.flags, answer)
        data: dict[str, Any] = {"mode": "direct" if direct else "review", "opd": self.ticket.opd}
        if self.files:  # the history names them
            data["files"] = [f.name for f in self.files]
        return data

    def _reply(self) -> dict[str, Any]:
        if not (self.request.message or "").strip():
            raise ActionInvalid("reply needs `message`")
        self._say(self.request.message)
        return {}

    def _note(self) -> dict[str, Any]:
        if not (self.request.text or "").strip():
            raise ActionInvalid("note needs `text`")
        return {}

    def _assign(self) -> dict[str, Any]:
        name = (given(self.request, "assignee") or "").strip() or self.actor
        user = self.session.exec(select(User).where(User.username == name)).first()
        if user is None or user.disabled_at is not None or user.role not in HOLDER_ROLES:
            raise ActionInvalid(f"{name!r} is not an operator who can hold a ticket")
        previous = _holder(self.session, self.ticket)
        self.ticket.assignee_id = user.id
        self.ticket.assigned_at = self.now
        return {"assignee": user.username, "previous": previous}

    def _release(self) -> dict[str, Any]:
        previous = _holder(self.session, self.ticket)
        if previous is None:
            raise ActionInvalid("nobody holds this ticket")
        self.ticket.assignee_id = None
        self.ticket.assigned_at = None
        return {"previous": previous}

    def _mark_read(self) -> dict[str, Any]:
        self.ticket.answered = False  # seen: off the "Dibalas pelapor" view
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


def _storable(request: ActionRequest) -> ActionRequest:
    """What the operator typed, made storable on both databases (store.text): a note with a
    NUL or a lone surrogate is kept with U+FFFD, never a failed transaction."""
    # Facts need nothing: the model takes only the known names.
    texts = {
        name: storable_or_none(given(request, name))
        for name in ("category", "opd", "message", "into", "text", "assignee")
        if name in type(request).model_fields
    }
    return request.model_copy(update=texts)


def _holder(session: Session, ticket: Ticket) -> str | None:
    """The username of the operator holding `ticket`, if any."""
    if ticket.assignee_id is None:
        return None
    user = session.get(User, ticket.assignee_id)
    return user.username if user else None


def _locked_ticket(session: Session, number: str) -> Ticket:
    if not is_storable(number):  # no ticket has that number (PostgreSQL would refuse a NUL)
        raise TicketNotFound(number)
    query = select(Ticket).where(Ticket.number == number.upper())
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    ticket = session.exec(query).first()
    if ticket is None:
        raise TicketNotFound(number)
    return ticket
