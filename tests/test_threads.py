"""The threading rules, pure: which ticket a message joins and which it only names."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from triage.threads import Candidates, Choice, Quoted, choose_ticket, may_reopen

MINE = Quoted(ticket_id=1, status="forwarded", reporter_id=10, number="LBP-2026-00001")
THEIRS = Quoted(ticket_id=2, status="new", reporter_id=20, number="LBP-2026-00002")
MY_CLOSED = Quoted(ticket_id=3, status="closed", reporter_id=10, number="LBP-2026-00003")


def test_a_reporter_quoting_their_own_number_joins_that_ticket() -> None:
    chosen = choose_ticket(Candidates(quoted=(MINE,), reporter_open=5, reporter_id=10))
    assert chosen == Choice(1)


def test_someone_elses_number_is_named_never_joined() -> None:
    assert choose_ticket(Candidates(quoted=(THEIRS,), reporter_id=10)) == Choice(
        None, mentions=("LBP-2026-00002",)
    )
    assert choose_ticket(
        Candidates(quoted=(THEIRS, THEIRS), reporter_open=5, reporter_id=10)
    ) == Choice(5, mentions=("LBP-2026-00002",))


def test_own_and_foreign_numbers_together() -> None:
    chosen = choose_ticket(Candidates(quoted=(THEIRS, MY_CLOSED), reporter_id=10))
    assert chosen == Choice(None, follows=3, mentions=("LBP-2026-00002",))
    replied = choose_ticket(Candidates(replied_to=(7, "new"), quoted=(THEIRS,), reporter_id=10))
    assert replied == Choice(7, mentions=("LBP-2026-00002",))


# Follow-ups (issue 18): a reporter writing soon after their ticket was settled reopens it.

RESOLVED = Quoted(ticket_id=4, status="resolved", reporter_id=10, number="LBP-2026-00004")


def test_a_follow_up_reopens_the_reporters_recent_final_ticket() -> None:
    chosen = choose_ticket(Candidates(reporter_id=10, reporter_final=4, reopenable=frozenset({4})))
    assert chosen == Choice(4, reopen=True)
    replied = choose_ticket(
        Candidates(replied_to=(4, "resolved"), reporter_id=10, reopenable=frozenset({4}))
    )
    assert replied == Choice(4, reopen=True)
    quoted = choose_ticket(
        Candidates(quoted=(RESOLVED,), reporter_id=10, reopenable=frozenset({4}))
    )
    assert quoted == Choice(4, reopen=True)


def test_after_the_window_a_new_ticket_follows_the_final_one() -> None:
    assert choose_ticket(Candidates(reporter_id=10, reporter_final=4)) == Choice(None, follows=4)


def test_an_open_ticket_is_joined_rather_than_a_final_one_reopened() -> None:
    """Two open tickets would hold the reporter's one open key."""
    chosen = choose_ticket(
        Candidates(
            replied_to=(4, "resolved"), reporter_open=5, reporter_id=10, reopenable=frozenset({4})
        )
    )
    assert chosen == Choice(5)


def test_which_final_tickets_a_follow_up_may_reopen() -> None:
    closed = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    within = timedelta(days=14)
    later = closed + timedelta(days=14)
    assert may_reopen("resolved", "resolved", closed, later, within)
    assert may_reopen("closed", "no_response", closed, later, within)
    assert not may_reopen("resolved", "resolved", closed, later + timedelta(seconds=1), within)
    assert not may_reopen("closed", "duplicate", closed, later, within)  # lives on in another
    assert not may_reopen("closed", "spam", closed, later, within)
    assert not may_reopen("new", None, None, later, within)
    assert not may_reopen("closed", "not_factual", None, later, within)  # when unknown: no
