"""Search in the database's own full-text engine and the kept status counts, on both databases."""

from __future__ import annotations

from collections import Counter

from sqlmodel import select

from api_client import report
from store import search
from store.db import Database
from store.models import Ticket, TicketStatusCount
from store.queue import QueueFilter, queue_page
from store.search import phone_forms
from store.tickets import TicketFilter, list_tickets
from triage.intake import Intake


def found(db: Database, q: str, clock) -> list[str]:
    with db.read() as session:
        page = queue_page(session, QueueFilter(status="all", q=q), clock())
    return [ticket.summary for ticket, _ in page.rows]


async def three_reports(intake: Intake) -> None:
    await intake.submit(
        [
            report(1, text="Jalan rusak parah di Desa Sambiroto, jalan berlubang dan rusak"),
            report(2, text="Lampu jalan mati di Desa Tlogoayu"),
            report(3, text="Sampah menumpuk di pasar Sambiroto"),
        ]
    )


async def test_words_find_tickets_best_match_first(db: Database, intake: Intake, clock) -> None:
    await three_reports(intake)
    assert sorted(found(db, "sambiroto", clock)) == [
        "Jalan rusak parah di Desa Sambiroto, jalan berlubang dan rusak",
        "Sampah menumpuk di pasar Sambiroto",
    ]
    # Every word must be there.
    assert found(db, "jalan rusak", clock) == [
        "Jalan rusak parah di Desa Sambiroto, jalan berlubang dan rusak"
    ]
    assert found(db, "SAMPAH pasar", clock) == ["Sampah menumpuk di pasar Sambiroto"]
    assert found(db, "banjir", clock) == []
    assert found(db, "%", clock) == []  # no word: nothing, not everything


async def test_the_ranking_prefers_the_report_about_the_word(
    db: Database, intake: Intake, clock
) -> None:
    await intake.submit(
        [
            report(1, text="Banjir banjir banjir, rumah kami kebanjiran lagi karena banjir"),
            report(2, text="Jalan rusak di dekat sungai, kemarin sempat banjir sebentar dan lama"),
        ]
    )
    assert found(db, "banjir", clock)[0].startswith("Banjir banjir")


async def test_search_results_are_counted_and_paged(db: Database, intake: Intake, clock) -> None:
    await intake.submit([report(i, text=f"Sampah menumpuk di RT {i}") for i in range(1, 28)])
    await intake.submit([report(30, text="Lampu jalan mati")])

    def paged(page: int) -> tuple[int, int, int, int]:
        with db.read() as session:
            found = queue_page(session, QueueFilter(status="all", q="sampah", page=page), clock())
        return len(found.rows), found.total, found.page, found.pages

    assert paged(1) == (25, 27, 1, 2)
    assert paged(2) == (2, 27, 2, 2)
    assert paged(9) == (2, 27, 2, 2)  # past the end: the last page
    with db.read() as session:
        nothing = queue_page(session, QueueFilter(status="all", q="banjir", page=3), clock())
    assert (nothing.rows, nothing.total, nothing.page, nothing.pages) == ([], 0, 1, 1)


async def test_a_later_message_and_the_reporter_are_searchable(
    db: Database, intake: Intake, clock
) -> None:
    await three_reports(intake)
    # The second message joins report 2's open ticket; intake writes it, the index follows.
    await intake.submit([report(4, sender="628120000002", text="Sudah tiga malam gelap gulita")])
    assert found(db, "gulita", clock) == ["Lampu jalan mati di Desa Tlogoayu"]
    assert found(db, "Warga 3", clock) == ["Sampah menumpuk di pasar Sambiroto"]


async def test_ticket_and_phone_numbers_match_exactly(db: Database, intake: Intake, clock) -> None:
    await three_reports(intake)
    with db.read() as session:
        numbers = {t.summary: t.number for t in session.exec(select(Ticket)).all()}
    wanted = numbers["Sampah menumpuk di pasar Sambiroto"]
    assert found(db, wanted, clock) == ["Sampah menumpuk di pasar Sambiroto"]
    assert found(db, wanted.lower(), clock) == ["Sampah menumpuk di pasar Sambiroto"]
    # The reporter of report 3 wrote from 628120000003: every way a person writes it finds it.
    for typed in ("628120000003", "+62 812-0000-003", "0812 0000 003"):
        assert found(db, typed, clock) == ["Sampah menumpuk di pasar Sambiroto"], typed
    assert found(db, "0812 0000 009", clock) == []


async def test_the_api_search_keeps_its_cursor_order(db: Database, intake: Intake, clock) -> None:
    await three_reports(intake)
    with db.read() as session:
        rows, cursor = list_tickets(session, TicketFilter(q="Sambiroto", limit=1))
        assert cursor is not None
        rest, last = list_tickets(session, TicketFilter(q="Sambiroto", limit=1, cursor=cursor))
    assert last is None
    assert {rows[0][0].summary[:6], rest[0][0].summary[:6]} == {"Jalan ", "Sampah"}


async def test_diacritics_are_ignored_on_sqlite(db: Database, intake: Intake, clock) -> None:
    await intake.submit([report(1, text="Kafé di alun-alun buang limbah ke selokan")])
    if db.dialect == "sqlite":
        assert found(db, "kafe", clock) == ["Kafé di alun-alun buang limbah ke selokan"]
    assert found(db, "kafé", clock) == ["Kafé di alun-alun buang limbah ke selokan"]


def test_phone_forms() -> None:
    assert phone_forms("0812-3456-7890") == ["6281234567890", "+6281234567890", "081234567890"]
    assert phone_forms("+62 812 3456 7890") == phone_forms("6281234567890")
    assert phone_forms("jalan 12345678") == []
    assert phone_forms("1234") == []


async def test_status_counts_follow_every_write(db: Database, intake: Intake, clock) -> None:
    await three_reports(intake)
    with db.write() as session:
        ticket = session.exec(select(Ticket).where(Ticket.summary.startswith("Sampah"))).one()
        ticket.status = "closed"
        session.add(ticket)
    with db.read() as session:
        kept = {row.status: row.tickets for row in session.exec(select(TicketStatusCount))}
        actual = Counter(t.status for t in session.exec(select(Ticket)).all())
        page = queue_page(session, QueueFilter(status="all"), clock())
    assert {s: n for s, n in kept.items() if n} == dict(actual) == {"new": 2, "closed": 1}
    assert page.total == 3
    assert page.counts["status"]["closed"] == 1
    assert page.counts["status"]["open"] == 2


async def test_a_word_is_ranked_in_its_newest_matches_and_numbers_match_at_any_age(
    db: Database, intake: Intake, clock
) -> None:
    """Only the newest messages holding the words are ranked (store.search.NEWEST), so a word
    in a fortieth of ten years of reports costs what a rare one does; an older report is
    still found by its ticket number or its reporter's phone number."""
    await intake.submit(
        [report(n, text=f"Jalan rusak nomor {n} di Desa Sambiroto") for n in range(1, 5)]
    )
    dialect = db.engine.dialect.name
    with db.read() as session:
        tickets = session.exec(select(Ticket.id, Ticket.number).order_by(Ticket.id)).all()

        def hit_ids(q: str) -> set[int]:
            hits = search.hits(q, dialect, newest=2)
            return set(session.exec(select(hits.c.ticket_id)).all())

        assert hit_ids("sambiroto") == {tickets[2].id, tickets[3].id}
        assert hit_ids(tickets[0].number) == {tickets[0].id}
        assert hit_ids("0812 0000 001") == {tickets[0].id}


async def test_a_word_search_reads_the_stored_vectors_not_the_texts(
    db: Database, intake: Intake, clock
) -> None:
    """PostgreSQL matches and ranks messages on their stored `search_vector`, reached through
    its GIN index or the primary key newest first, and never parses a text again (which cost a
    second a word at a million tickets); SQLite reaches messages only by FTS5's rowids."""
    await three_reports(intake)
    with db.read() as session:
        recent_from = search.recent_bound(session)
    hits = search.hits("sampah pasar", db.dialect, recent_from=recent_from)
    compiled = select(hits.c.ticket_id, hits.c.score).compile(dialect=db.engine.dialect)
    with db.engine.connect() as conn:
        if db.dialect == "sqlite":
            parameters = tuple(compiled.params[name] for name in compiled.positiontup or ())
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", parameters)
            plan = [row[3] for row in rows]
            assert "SEARCH m USING INTEGER PRIMARY KEY (rowid=?)" in plan, plan
            scans = [step.split()[1] for step in plan if step.startswith("SCAN ")]
            assert "message_search" in scans and not {"m", "messages"} & set(scans), plan
            return
        conn.exec_driver_sql("SET enable_seqscan = off")  # priced as a big table prices it
        rows = conn.exec_driver_sql(f"EXPLAIN (VERBOSE) {compiled}", compiled.params)
        plan = "\n".join(row[0] for row in rows)
        conn.rollback()
    assert "to_tsvector('indonesian'" not in plan, plan
    assert "messages.search_vector @@" in plan, plan
    assert "ts_rank(m.search_vector" in plan, plan
    assert "ix_messages_search" in plan or "messages_pkey" in plan, plan
