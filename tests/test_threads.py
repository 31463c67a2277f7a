"""The threading rules, pure: which ticket a message joins and which it only names."""

from __future__ import annotations

from triage.threads import Candidates, Choice, Quoted, choose_ticket

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
