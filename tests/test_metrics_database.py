"""The figures a scrape reads from the database: open tickets per status, overdue tickets per
clock, the outbox backlog; on SQLite and PostgreSQL, and from an index, never the history."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event
from sqlmodel import col, select

from channels.simulated.reports import sample_reports
from conftest import FixedClock
from observability.collectors import DatabaseGauges
from observability.metrics import Metrics
from store import gauges
from store.db import Database
from store.models import OutboxItem, Ticket
from triage.intake import Intake


async def seeded(db: Database, intake: Intake, clock: FixedClock, count: int) -> list[Ticket]:
    reports = sample_reports(count, now=clock(), seed=7)
    await intake.submit(reports)
    with db.read() as session:
        return list(session.exec(select(Ticket).order_by(col(Ticket.id))).all())


def set_tickets(db: Database, changes: dict[int, dict[str, object]]) -> None:
    with db.write() as session:
        for ticket_id, values in changes.items():
            ticket = session.get(Ticket, ticket_id)
            assert ticket is not None
            for name, value in values.items():
                setattr(ticket, name, value)
            session.add(ticket)


async def test_open_tickets_per_status_and_overdue_per_clock(
    db: Database, intake: Intake, clock: FixedClock
) -> None:
    tickets = await seeded(db, intake, clock, 8)
    assert len(tickets) >= 7
    now = clock()
    past, future = now - timedelta(hours=1), now + timedelta(hours=1)
    ids = [t.id for t in tickets if t.id is not None]
    set_tickets(
        db,
        {
            ids[0]: {"status": "new", "verify_due_at": past},
            ids[1]: {"status": "new", "verify_due_at": future},
            ids[2]: {"status": "clarifying", "clarification_due_at": past},
            ids[3]: {"status": "forwarded", "opd_due_at": past, "due_at": future},
            ids[4]: {"status": "in_progress", "opd_due_at": future, "due_at": past},
            # Closed with old clocks left on them: history, never counted.
            ids[5]: {"status": "closed", "verify_due_at": past, "opd_due_at": past},
            ids[6]: {"status": "resolved", "due_at": past},
        },
    )
    for ticket_id in ids[7:]:
        set_tickets(db, {ticket_id: {"status": "new", "verify_due_at": None}})

    with db.read() as session:
        by_status = gauges.open_by_status(session)
        overdue = gauges.overdue_by_clock(session, now)
    assert by_status == {
        "new": 2 + len(ids[7:]),
        "clarifying": 1,
        "forwarded": 1,
        "in_progress": 1,
        "answered": 0,  # every open state is listed, none answered here
    }
    assert overdue == {"verify": 1, "clarification": 1, "opd": 1, "resolve": 1}

    metrics = Metrics()
    metrics.registry.register(DatabaseGauges(db, clock))
    read = metrics.registry.get_sample_value
    assert read("kanal_tickets_open", {"status": "clarifying"}) == 1
    assert read("kanal_tickets_overdue", {"clock": "resolve"}) == 1
    assert read("kanal_database_up") == 1


def test_the_outbox_backlog_counts_what_waits_per_channel(db: Database, clock: FixedClock) -> None:
    rows = [
        ("whatsapp", "pending"),
        ("whatsapp", "pending"),
        ("whatsapp", "sending"),
        ("telegram", "pending"),
        ("telegram", "sent"),
        ("email", "failed"),
    ]
    with db.write() as session:
        for n, (channel, state) in enumerate(rows):
            session.add(
                OutboxItem(
                    channel=channel,
                    idempotency_key=f"k{n}",
                    state=state,
                    next_attempt_at=clock(),
                    created_at=clock(),
                )
            )
    with db.read() as session:
        assert gauges.outbox_backlog(session) == {
            ("whatsapp", "pending"): 2,
            ("whatsapp", "sending"): 1,
            ("telegram", "pending"): 1,
        }


def test_a_scrape_while_the_database_is_away_still_answers(clock: FixedClock, tmp_path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'missing' / 'kanal.db'}")  # no schema: queries fail
    metrics = Metrics()
    metrics.registry.register(DatabaseGauges(db, clock))
    assert metrics.registry.get_sample_value("kanal_database_up") == 0
    assert metrics.registry.get_sample_value("kanal_tickets_open", {"status": "new"}) is None
    db.dispose()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_figure_is_read_from_an_index_not_the_table(db: Database, clock: FixedClock) -> None:
    """SQLite's plan of each query a scrape runs names the index it searches; `SCAN tickets`
    would read every ticket ever received. (PostgreSQL plans by its statistics; the same
    indexes serve it once the closed tickets outnumber the open ones.)"""
    statements: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        with db.read() as session:
            gauges.open_by_status(session)
            gauges.overdue_by_clock(session, clock())
            gauges.outbox_backlog(session)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert len(statements) == 2 + len(gauges.CLOCKS)
    with db.engine.connect() as connection:
        for statement, parameters in statements:
            rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            plan = " | ".join(row[3] for row in rows)
            assert "USING" in plan and "INDEX" in plan, plan
            assert "SCAN tickets" not in plan and "SCAN outbox" not in plan, plan
