"""The ticket state machine, every state against every action."""

from __future__ import annotations

import itertools

import pytest

from store import queue, tickets
from triage.states import (
    FINAL_STATES,
    OPEN_STATES,
    REJECT_RESOLUTIONS,
    TRANSITIONS,
    Action,
    Resolution,
    Status,
    TicketFacts,
    TransitionError,
    decide,
)

N, C, F, P, A, R, X = (
    Status.NEW,
    Status.CLARIFYING,
    Status.FORWARDED,
    Status.IN_PROGRESS,
    Status.ANSWERED,
    Status.RESOLVED,
    Status.CLOSED,
)
# The whole expected table, written out by hand: (state, action) -> next state; absent = illegal.
EXPECTED = {
    (N, Action.VERIFY): N,
    (N, Action.REQUEST_CLARIFICATION): C,
    (C, Action.REQUEST_CLARIFICATION): C,
    (C, Action.REPORTER_ANSWERED): N,
    **{(s, Action.REJECT): X for s in (N, C, F, P, A)},
    (N, Action.FORWARD): F,
    (F, Action.FORWARD): F,
    (A, Action.FORWARD): F,  # the operator sends the answered ticket back to an OPD
    (F, Action.ACKNOWLEDGE): P,
    (F, Action.ANSWER): A,  # "Dijawab OPD" (issue 18)
    (P, Action.ANSWER): A,
    (A, Action.ANSWER): A,  # a corrected answer
    **{(s, Action.RESOLVE): R for s in (N, F, P, A)},
    (R, Action.REOPEN): N,
    (X, Action.REOPEN): N,
    (R, Action.NOT_FIXED): F,  # the reporter's "belum" to the check-back (issue 18)
    **{(s, Action.MERGE): X for s in (N, C, F, P, A)},
    **{(s, Action.REPLY): s for s in Status},
    **{(s, Action.NOTE): s for s in Status},
    **{(s, Action.ASSIGN): s for s in (N, C, F, P, A)},
    **{(s, Action.RELEASE): s for s in (N, C, F, P, A)},
    (N, Action.MARK_READ): N,
    **{(s, Action.MARK_SPAM): X for s in (N, C, F, P, A)},  # closed as spam
    (R, Action.MARK_SPAM): R,  # a settled ticket stays; its sender is marked
    (X, Action.MARK_SPAM): X,
    **{(s, Action.UNMARK_SPAM): s for s in Status},
    (N, Action.SPAM_SENDER): X,
    (C, Action.AUTO_CLOSE): X,
    (N, Action.ESCALATE): N,
    (F, Action.ESCALATE): F,
    (P, Action.ESCALATE): P,
    (A, Action.ESCALATE): A,
}
EXPECTED_RESOLUTION = {
    Action.RESOLVE: Resolution.RESOLVED,
    Action.MERGE: Resolution.DUPLICATE,
    Action.AUTO_CLOSE: Resolution.NO_RESPONSE,
    Action.REJECT: Resolution.SPAM,
    Action.SPAM_SENDER: Resolution.SPAM,
    Action.REOPEN: None,
    Action.NOT_FIXED: None,
}


@pytest.mark.parametrize(("status", "action"), list(itertools.product(Status, Action)))
def test_every_state_and_action(status: Status, action: Action) -> None:
    facts = TicketFacts(status, verified=True, resolution=None)
    if (status, action) not in EXPECTED:
        with pytest.raises(TransitionError) as error:
            decide(facts, action, resolution=Resolution.SPAM)
        assert error.value.status is status
        assert error.value.action is action
        return
    outcome = decide(facts, action, resolution=Resolution.SPAM)
    assert outcome.from_state is status
    assert outcome.to_state is EXPECTED[status, action]
    if action is Action.MARK_SPAM:  # closes an open ticket as spam, keeps a settled one's
        assert outcome.resolution == (Resolution.SPAM if status in OPEN_STATES else None)
    else:
        assert outcome.resolution == EXPECTED_RESOLUTION.get(action)


def test_the_table_is_exactly_the_expected_one() -> None:
    declared = {key: (target or key[0]) for key, target in TRANSITIONS.items()}
    assert declared == EXPECTED


def test_open_and_final_states_partition_all_states() -> None:
    assert OPEN_STATES | FINAL_STATES == set(Status)
    assert not OPEN_STATES & FINAL_STATES


def test_the_queries_group_the_states_the_machine_knows() -> None:
    """store owns the stored names; the queue's groups are the machine's own sets."""
    assert queue.STATUSES == tuple(Status)
    assert queue.OPEN == ("new", "clarifying", "forwarded", "in_progress", "answered")
    assert set(queue.OPEN) == OPEN_STATES
    # Answered: the OPD's answer is given (no OPD clock runs), the OPD still sees the ticket.
    assert set(queue.WITH_OPD) | set(tickets.WITH_OPERATORS) | {Status.ANSWERED} == OPEN_STATES
    assert {s for (s, a) in TRANSITIONS if a is Action.ACKNOWLEDGE} < set(queue.WITH_OPD)


def test_forward_needs_verification() -> None:
    with pytest.raises(TransitionError, match="verified"):
        decide(TicketFacts(Status.NEW, verified=False), Action.FORWARD)
    assert (
        decide(TicketFacts(Status.NEW, verified=True), Action.FORWARD).to_state is Status.FORWARDED
    )


@pytest.mark.parametrize("resolution", list(Resolution))
def test_reject_takes_only_rejection_reasons(resolution: Resolution) -> None:
    facts = TicketFacts(Status.NEW)
    if resolution in REJECT_RESOLUTIONS:
        outcome = decide(facts, Action.REJECT, resolution=resolution)
        assert (outcome.to_state, outcome.resolution) == (Status.CLOSED, resolution)
    else:
        with pytest.raises(TransitionError, match="reject needs a resolution"):
            decide(facts, Action.REJECT, resolution=resolution)


def test_reply_and_note_keep_the_resolution() -> None:
    facts = TicketFacts(Status.CLOSED, resolution=Resolution.NO_RESPONSE)
    assert decide(facts, Action.REPLY).resolution is Resolution.NO_RESPONSE
    assert decide(facts, Action.NOTE).to_state is Status.CLOSED
    assert decide(facts, Action.REOPEN).resolution is None
