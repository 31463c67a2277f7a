"""The ticket state machine: states, resolutions, actions and the one table of legal transitions.

Pure: no I/O. Callers load a ticket's facts, ask `decide` what an action does, and write the
outcome together with its audit event.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

# The state names are stored values, so store owns them; their transitions are ours.
from store.statuses import FINAL_STATES, OPEN_STATES, Status


class Resolution(enum.StrEnum):
    RESOLVED = "resolved"
    NO_RESPONSE = "no_response"
    NOT_FACTUAL = "not_factual"
    OUT_OF_JURISDICTION = "out_of_jurisdiction"
    NOT_GOVERNMENT_AFFAIRS = "not_government_affairs"
    PRIVATE_MATTER = "private_matter"
    DUPLICATE = "duplicate"
    SPAM = "spam"


# What an operator may give as the reason for `reject`.
REJECT_RESOLUTIONS = frozenset(
    {
        Resolution.NOT_FACTUAL,
        Resolution.OUT_OF_JURISDICTION,
        Resolution.NOT_GOVERNMENT_AFFAIRS,
        Resolution.PRIVATE_MATTER,
        Resolution.SPAM,
    }
)


class Action(enum.StrEnum):
    # operators
    VERIFY = "verify"
    REQUEST_CLARIFICATION = "request_clarification"
    REJECT = "reject"
    FORWARD = "forward"
    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"
    REOPEN = "reopen"
    MERGE = "merge"
    REPLY = "reply"
    NOTE = "note"
    ANSWER = "answer"  # the OPD's answer to the reporter ([triage] opd_answers)
    ASSIGN = "assign"  # take a ticket, or give it to another operator
    RELEASE = "release"  # nobody holds it any more
    MARK_READ = "mark_read"  # the reporter's answer has been seen ("Dibalas pelapor" clears)
    # The sender is spam: an open ticket closes as spam, and what they write later is kept on
    # a ticket closed as spam, unanswered (SPAM_SENDER); UNMARK_SPAM lifts the mark.
    MARK_SPAM = "mark_spam"
    UNMARK_SPAM = "unmark_spam"
    # the system
    SPAM_SENDER = "spam_sender"  # a message from a sender marked as spam opened the ticket
    REPORTER_ANSWERED = "reporter_answered"
    NOT_FIXED = "not_fixed"  # the reporter answers the check-back: not fixed
    AUTO_CLOSE = "auto_close"
    ESCALATE = "escalate"


OPERATOR_ACTIONS = frozenset(
    {
        Action.VERIFY,
        Action.REQUEST_CLARIFICATION,
        Action.REJECT,
        Action.FORWARD,
        Action.ACKNOWLEDGE,
        Action.RESOLVE,
        Action.REOPEN,
        Action.MERGE,
        Action.REPLY,
        Action.NOTE,
        Action.ANSWER,
        Action.ASSIGN,
        Action.RELEASE,
        Action.MARK_READ,
        Action.MARK_SPAM,
        Action.UNMARK_SPAM,
    }
)

_STAY = None  # the action leaves the state as it is

_ALL = tuple(Status)
_OPEN = tuple(s for s in Status if s in OPEN_STATES)
_FINAL = tuple(s for s in Status if s in FINAL_STATES)


def _rows(action: Action, sources: tuple[Status, ...], target: Status | None) -> dict:
    return {(source, action): target for source in sources}


# Every legal transition, and only those: (state, action) -> next state (None: unchanged).
TRANSITIONS: dict[tuple[Status, Action], Status | None] = {
    **_rows(Action.VERIFY, (Status.NEW,), _STAY),
    **_rows(Action.REQUEST_CLARIFICATION, (Status.NEW, Status.CLARIFYING), Status.CLARIFYING),
    **_rows(Action.REPORTER_ANSWERED, (Status.CLARIFYING,), Status.NEW),
    **_rows(Action.REJECT, _OPEN, Status.CLOSED),
    **_rows(Action.FORWARD, (Status.NEW,), Status.FORWARDED),
    **_rows(Action.FORWARD, (Status.FORWARDED,), _STAY),  # handed to another OPD
    **_rows(Action.ACKNOWLEDGE, (Status.FORWARDED,), Status.IN_PROGRESS),
    # The OPD answers ("Dijawab OPD"); a second answer replaces the first.
    **_rows(Action.ANSWER, (Status.FORWARDED, Status.IN_PROGRESS), Status.ANSWERED),
    **_rows(Action.ANSWER, (Status.ANSWERED,), _STAY),
    **_rows(Action.FORWARD, (Status.ANSWERED,), Status.FORWARDED),  # back to an OPD
    **_rows(
        Action.RESOLVE,
        (Status.NEW, Status.FORWARDED, Status.IN_PROGRESS, Status.ANSWERED),
        Status.RESOLVED,
    ),
    **_rows(Action.REOPEN, _FINAL, Status.NEW),
    **_rows(Action.NOT_FIXED, (Status.RESOLVED,), Status.FORWARDED),  # back to the same OPD
    **_rows(Action.MERGE, _OPEN, Status.CLOSED),
    **_rows(Action.REPLY, _ALL, _STAY),
    **_rows(Action.NOTE, _ALL, _STAY),
    **_rows(Action.ASSIGN, _OPEN, _STAY),
    **_rows(Action.RELEASE, _OPEN, _STAY),
    **_rows(Action.MARK_READ, (Status.NEW,), _STAY),
    **_rows(Action.MARK_SPAM, _OPEN, Status.CLOSED),
    **_rows(Action.MARK_SPAM, _FINAL, _STAY),  # the sender only
    **_rows(Action.UNMARK_SPAM, _ALL, _STAY),
    **_rows(Action.SPAM_SENDER, (Status.NEW,), Status.CLOSED),
    **_rows(Action.AUTO_CLOSE, (Status.CLARIFYING,), Status.CLOSED),
    # A deadline passed: operators' (new), the OPD's or the whole case's (forwarded, in progress).
    **_rows(
        Action.ESCALATE, (Status.NEW, Status.FORWARDED, Status.IN_PROGRESS, Status.ANSWERED), _STAY
    ),
}


class TransitionError(Exception):
    """An action that the ticket's state or facts do not allow; the API answers 409."""

    def __init__(self, message: str, *, status: Status, action: Action) -> None:
        super().__init__(message)
        self.status = status
        self.action = action


@dataclass(frozen=True, slots=True)
class TicketFacts:
    """What the rules need to know about a ticket."""

    status: Status
    verified: bool = False
    resolution: Resolution | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    from_state: Status
    to_state: Status
    resolution: Resolution | None

    @property
    def changed(self) -> bool:
        return self.from_state != self.to_state


def decide(facts: TicketFacts, action: Action, *, resolution: Resolution | None = None) -> Outcome:
    """The state and resolution after `action`, or TransitionError when it is not allowed."""
    key = (facts.status, action)
    if key not in TRANSITIONS:
        raise TransitionError(
            f"cannot {action.value} a ticket that is {facts.status.value}",
            status=facts.status,
            action=action,
        )
    if action is Action.FORWARD and not facts.verified:
        raise TransitionError(
            "a ticket must be verified before it is forwarded", status=facts.status, action=action
        )
    target = TRANSITIONS[key] or facts.status
    return Outcome(facts.status, target, _resolution_after(facts, action, resolution))


def _resolution_after(
    facts: TicketFacts, action: Action, given: Resolution | None
) -> Resolution | None:
    if action is Action.REJECT:
        if given not in REJECT_RESOLUTIONS:
            allowed = ", ".join(sorted(r.value for r in REJECT_RESOLUTIONS))
            raise TransitionError(
                f"reject needs a resolution, one of: {allowed}", status=facts.status, action=action
            )
        return given
    if action is Action.MARK_SPAM and facts.status in OPEN_STATES:
        return Resolution.SPAM
    fixed = {
        Action.SPAM_SENDER: Resolution.SPAM,
        Action.RESOLVE: Resolution.RESOLVED,
        Action.MERGE: Resolution.DUPLICATE,
        Action.AUTO_CLOSE: Resolution.NO_RESPONSE,
        Action.REOPEN: None,
        Action.NOT_FIXED: None,
    }
    return fixed[action] if action in fixed else facts.resolution
