"""The threading rules, pure: which ticket a message joins and which it only names."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from triage.threads import Candidates, Choice, Quoted, choose_ticket, may_reopen

MINE = Quoted(ticket_id=1, status="forwarded", reporter_id=10, number="LBP-2026-00001")
THEIRS = Quoted(ticket_id=2, status="new", reporter_id=20, number="LBP-2026-00002")
MY_CLOSED = Quoted(ticket_id=3, status="closed", reporter_id=10, number="LBP-2026-00003")
MY_NEW = Quoted(ticket_id=7, status="new", reporter_id=10, number="LBP-2026-00007")


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
    replied = choose_ticket(Candidates(replied_to=MY_NEW, quoted=(THEIRS,), reporter_id=10))
    assert replied == Choice(7, mentions=("LBP-2026-00002",))


def test_a_public_reply_to_someone_elses_ticket_is_named_never_joined() -> None:
    """On X or under a comment anyone may reply to anyone: the thread is not theirs."""
    strangers = choose_ticket(Candidates(replied_to=THEIRS, reporter_id=10, public=True))
    assert strangers == Choice(None, mentions=("LBP-2026-00002",))
    with_own_open = choose_ticket(
        Candidates(replied_to=THEIRS, reporter_open=5, reporter_id=10, public=True)
    )
    assert with_own_open == Choice(5, mentions=("LBP-2026-00002",))
    # Nor reopened when it is final, however recently.
    their_resolved = Quoted(ticket_id=6, status="resolved", reporter_id=20, number="LBP-2026-00006")
    reopening = choose_ticket(
        Candidates(
            replied_to=their_resolved, reporter_id=10, reopenable=frozenset({6}), public=True
        )
    )
    assert reopening == Choice(None, mentions=("LBP-2026-00006",))
    # Their own number quoted in the same post still threads.
    both = choose_ticket(Candidates(replied_to=THEIRS, quoted=(MINE,), reporter_id=10, public=True))
    assert both == Choice(1, mentions=("LBP-2026-00002",))
    # Their own public reply threads as any reply does.
    own = choose_ticket(Candidates(replied_to=MY_NEW, reporter_id=10, public=True))
    assert own == Choice(7)


def test_a_private_reply_into_someone_elses_thread_joins_it() -> None:
    """A mail the reporter forwarded to their office address: only those they shared it with
    can reply in its thread."""
    assert choose_ticket(Candidates(replied_to=THEIRS, reporter_id=10)) == Choice(2)


# Follow-ups (issue 18): a reporter writing soon after their ticket was settled reopens it.

RESOLVED = Quoted(ticket_id=4, status="resolved", reporter_id=10, number="LBP-2026-00004")


def test_a_follow_up_reopens_the_reporters_recent_final_ticket() -> None:
    chosen = choose_ticket(Candidates(reporter_id=10, reporter_final=4, reopenable=frozenset({4})))
    assert chosen == Choice(4, reopen=True)
    replied = choose_ticket(
        Candidates(replied_to=RESOLVED, reporter_id=10, reopenable=frozenset({4}))
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
        Candidates(replied_to=RESOLVED, reporter_open=5, reporter_id=10, reopenable=frozenset({4}))
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
