"""Intake: durable, deduplicated, threaded, group-committed; on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta

from sqlalchemy import event
from sqlmodel import select

from channels.base import (
    Attachment,
    AttachmentKind,
    Cursor,
    DeliveryState,
    DeliveryStatus,
    InboundMessage,
    Location,
    MediaResult,
    MessageUpdate,
    UnsupportedEvent,
    UpdateKind,
)
from store.db import Database
from store.models import Attachment as AttachmentRow
from store.models import Message, PollCursor, RawEvent, Reporter, Ticket, TicketEvent
from triage.intake import Intake

SENT = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)


def report(
    external_id: str,
    sender: str = "6281234567890",
    text: str = "Jalan di Desa Sukolilo berlubang besar, mohon diperbaiki",
    **extra: object,
) -> InboundMessage:
    return InboundMessage(
        channel=extra.pop("channel", "whatsapp"),  # type: ignore[arg-type]
        account="1234567890",
        external_id=external_id,
        sender_id=sender,
        sent_at=SENT,
        text=text,
        display_name="Budi Santoso",
        contact=f"+{sender}",
        raw={"id": external_id},
        **extra,  # type: ignore[arg-type]
    )


def tickets(db: Database) -> list[Ticket]:
    with db.read() as session:
        return list(session.exec(select(Ticket).order_by(Ticket.id)))


def messages(db: Database) -> list[Message]:
    with db.read() as session:
        return list(session.exec(select(Message).order_by(Message.id)))


async def test_first_report_opens_a_numbered_ticket(intake: Intake, db: Database) -> None:
    result = await intake.submit([report("wamid.1")])

    assert (result.stored, result.duplicates) == (1, 0)
    [ticket] = tickets(db)
    assert ticket.number == "LBP-2026-00001"
    assert ticket.status == "new"
    assert ticket.channel == "whatsapp"
    assert ticket.message_count == 1
    assert ticket.summary == "Jalan di Desa Sukolilo berlubang besar, mohon diperbaiki"
    [message] = messages(db)
    assert (message.direction, message.external_id, message.ticket_id) == (
        "in",
        "wamid.1",
        ticket.id,
    )
    assert message.sent_at == SENT
    with db.read() as session:
        reporter = session.exec(select(Reporter)).one()
        raw = session.exec(select(RawEvent)).one()
        event = session.exec(select(TicketEvent)).one()
    assert (reporter.sender_id, reporter.display_name, reporter.contact) == (
        "6281234567890",
        "Budi Santoso",
        "+6281234567890",
    )
    assert raw.payload == {"id": "wamid.1"}
    assert (event.action, event.actor, event.to_state) == ("opened", "system", "new")


async def test_repeated_delivery_is_stored_once(intake: Intake, db: Database) -> None:
    first = await intake.submit([report("wamid.1")])
    again = await intake.submit([report("wamid.1"), report("wamid.1")])

    assert (first.stored, again.stored, again.duplicates) == (1, 0, 2)
    assert len(messages(db)) == 1
    assert tickets(db)[0].message_count == 1


async def test_racing_deliveries_of_one_message_store_it_once(intake: Intake, db: Database) -> None:
    results = await asyncio.gather(*(intake.submit([report("wamid.race")]) for _ in range(20)))

    assert sum(r.stored for r in results) == 1
    assert sum(r.duplicates for r in results) == 19
    assert len(messages(db)) == 1


async def test_two_first_messages_of_a_reporter_in_one_batch_open_one_ticket(
    intake: Intake, db: Database
) -> None:
    await asyncio.gather(*(intake.submit([report(f"w{i}")]) for i in range(5)))

    [ticket] = tickets(db)
    assert (ticket.message_count, ticket.open_key) == (5, f"whatsapp:{ticket.reporter_id}")


async def test_concurrent_reports_get_distinct_numbers(intake: Intake, db: Database) -> None:
    await asyncio.gather(
        *(intake.submit([report(f"w{i}", sender=f"62811{i:05d}")]) for i in range(50))
    )

    numbers = [t.number for t in tickets(db)]
    assert sorted(numbers) == [f"LBP-2026-{i:05d}" for i in range(1, 51)]


async def test_the_reporters_next_message_joins_their_open_ticket(
    intake: Intake, db: Database
) -> None:
    await intake.submit([report("w1")])
    await intake.submit([report("w2", text="Ini fotonya")])
    await intake.submit([report("w3", sender="6289999", text="Lampu jalan mati")])

    first, other = tickets(db)
    assert first.message_count == 2
    assert other.message_count == 1
    assert [m.ticket_id for m in messages(db)] == [first.id, first.id, other.id]


async def test_a_reply_joins_the_ticket_of_the_message_it_replies_to(
    intake: Intake, db: Database
) -> None:
    await intake.submit([report("<a@mail>", sender="budi@example.id", channel="email")])
    await intake.submit([report("w1", sender="siti")])
    # Another reporter forwards into Budi's thread by replying to his message.
    await intake.submit(
        [report("<b@mail>", sender="ani@example.id", channel="email", references=("<a@mail>",))]
    )

    budi, siti = tickets(db)
    assert budi.message_count == 2
    assert siti.message_count == 1


async def test_a_strangers_public_reply_is_named_not_joined(intake: Intake, db: Database) -> None:
    """On X anyone may reply to a citizen's post (or to Kanal's answer under it): the reply
    opens the stranger's own ticket, which names the citizen's for the operator."""
    await intake.submit([report("1900", sender="111", channel="x", public=True)])
    await intake.submit(
        [
            report("1901", sender="222", channel="x", public=True, reply_to="1900"),
            report("1902", sender="111", channel="x", public=True, references=("1900",)),
        ]
    )

    citizen, stranger = tickets(db)
    assert (citizen.message_count, citizen.flags) == (2, {"public": True})
    assert (stranger.reporter_id != citizen.reporter_id, stranger.message_count) == (True, 1)
    assert stranger.flags == {"public": True, "mentions": [citizen.number]}


async def test_a_number_quoted_by_another_identity_is_named_not_joined(
    intake: Intake, db: Database
) -> None:
    """Another channel's sender may be the same citizen or anyone who saw the number: their
    mail opens its own ticket, which names the quoted one for the operator to merge."""
    await intake.submit([report("w1")])
    await intake.submit(
        [
            report(
                "<x@mail>", sender="budi@example.id", channel="email", subject="Re: lbp-2026-00001"
            )
        ]
    )

    first, second = tickets(db)
    assert (first.message_count, first.flags) == (1, {})
    assert (second.channel, second.message_count) == ("email", 1)
    assert second.flags == {"mentions": ["LBP-2026-00001"]}


async def test_a_message_after_closing_opens_a_ticket_that_follows_the_old_one(
    intake: Intake, db: Database
) -> None:
    await intake.submit([report("w1")])
    with db.write() as session:
        ticket = session.exec(select(Ticket)).one()
        ticket.status, ticket.resolution, ticket.open_key = "closed", "no_response", None
        session.add(ticket)
    await intake.submit([report("w2", text="Tolong LBP-2026-00001 masih rusak")])

    old, new = tickets(db)
    assert (old.message_count, new.message_count) == (1, 1)
    assert new.flags == {"follows_ticket_id": old.id}


async def test_an_answer_to_a_clarification_returns_the_ticket_to_the_queue(
    intake: Intake, db: Database, clock
) -> None:
    await intake.submit([report("w1")])
    with db.write() as session:
        ticket = session.exec(select(Ticket)).one()
        ticket.status = "clarifying"
        ticket.clarification_due_at = clock() + timedelta(days=3)
        session.add(ticket)
    clock.advance(timedelta(hours=2))
    await intake.submit(
        [report("w2", text="Lokasinya", location=Location(-6.75, 111.04, "Balai Desa", "Pati"))]
    )

    [ticket] = tickets(db)
    assert (ticket.status, ticket.answered, ticket.clarification_due_at) == ("new", True, None)
    assert ticket.last_activity_at == clock()
    answer = messages(db)[1]
    assert (answer.latitude, answer.longitude, answer.location_name) == (
        -6.75,
        111.04,
        "Balai Desa",
    )
    with db.read() as session:
        events = session.exec(select(TicketEvent).order_by(TicketEvent.id)).all()
    assert [(e.action, e.from_state, e.to_state) for e in events] == [
        ("opened", None, "new"),
        ("reporter_answered", "clarifying", "new"),
    ]


async def test_cursor_is_committed_with_the_messages(intake: Intake, db: Database) -> None:
    cursor = Cursor("email", "laporbup@example.id", "INBOX", "77:12")
    await intake.submit([report("<m@x>", channel="email", sender="a@b.id")], cursor)

    assert await intake.read_cursor("email", "laporbup@example.id", "INBOX") == "77:12"
    await intake.submit([], Cursor("email", "laporbup@example.id", "INBOX", "77:13"))
    with db.read() as session:
        [row] = session.exec(select(PollCursor)).all()
    assert row.value == "77:13"


async def test_updates_statuses_and_unsupported_events_never_open_tickets(
    intake: Intake, db: Database, clock
) -> None:
    await intake.submit([report("w1")])
    [ticket] = tickets(db)
    with db.write() as session:
        session.add(
            Message(
                ticket_id=ticket.id,
                direction="out",
                channel="whatsapp",
                account="1234567890",
                external_id="out-1",
                platform_message_id="wamid.OUT",
                text="Terima kasih",
                sent_at=clock(),
                received_at=clock(),
                delivery_state="sent",
            )
        )
    at = clock()
    await intake.submit(
        [
            MessageUpdate(
                "whatsapp", "1234567890", "r1", "w1", UpdateKind.REACTION, "628", at, "👍"
            ),
            MessageUpdate("whatsapp", "1234567890", "e1", "w1", UpdateKind.EDIT, "628", at, "Baru"),
            DeliveryStatus("whatsapp", "1234567890", "wamid.OUT", DeliveryState.READ, at),
            DeliveryStatus("whatsapp", "1234567890", "wamid.OUT", DeliveryState.DELIVERED, at),
            UnsupportedEvent(
                "whatsapp",
                "1234567890",
                "u1",
                "unknown",
                "tipe tidak dikenal",
                raw={"type": "poll"},
            ),
        ]
    )

    assert len(tickets(db)) == 1
    inbound, outbound = messages(db)
    assert (inbound.reaction, inbound.edited_text) == ("👍", "Baru")
    assert outbound.delivery_state == "read"  # a late "delivered" does not move it back
    with db.read() as session:
        raw = session.exec(select(RawEvent).where(RawEvent.external_id == "u1")).one()
    assert (raw.kind, raw.error, raw.payload) == ("unknown", "tipe tidak dikenal", {"type": "poll"})


async def test_attachments_are_kept_and_linked_when_fetched(intake: Intake, db: Database) -> None:
    photo = Attachment(AttachmentKind.IMAGE, "image/jpeg", media_ref="MEDIA1", sha256="abc")
    await intake.submit([report("w1", text="", attachments=(photo,))])
    await intake.record_media(
        MediaResult("whatsapp", "w1", "MEDIA1", stored_path="media/whatsapp/w1.jpg", size=2048)
    )

    assert tickets(db)[0].summary == "[foto]"
    with db.read() as session:
        row = session.exec(select(AttachmentRow)).one()
    assert (row.kind, row.mime_type, row.fetch_state, row.stored_path, row.size) == (
        "image",
        "image/jpeg",
        "stored",
        "media/whatsapp/w1.jpg",
        2048,
    )


async def test_a_malformed_message_is_kept_with_its_reason(intake: Intake, db: Database) -> None:
    await intake.submit([report("w1", text="", parse_error="badan pesan tidak terbaca")])

    [message] = messages(db)
    assert message.parse_error == "badan pesan tidak terbaca"
    assert len(tickets(db)) == 1


async def test_two_processes_racing_store_once_and_thread_together(db: Database, clock) -> None:
    """Two intakes on one database stand for two processes behind a load balancer."""
    first = Intake(Database(db.url), clock=clock)
    second = Intake(Database(db.url), clock=clock)
    await first.start()
    await second.start()
    try:
        for n in range(20):
            sender = f"62877{n:05d}"
            await asyncio.gather(
                first.submit([report(f"a{n}", sender=sender)]),
                second.submit([report(f"b{n}", sender=sender)]),
                first.submit([report(f"dup{n}", sender=sender)]),
                second.submit([report(f"dup{n}", sender=sender)]),
            )
    finally:
        await first.stop()
        await second.stop()

    all_tickets = tickets(db)
    assert len(all_tickets) == 20
    assert [t.message_count for t in all_tickets] == [3] * 20
    assert len({t.number for t in all_tickets}) == 20
    assert len(messages(db)) == 60


async def test_times_intake_writes_compare_with_times_queries_give(
    intake: Intake, db: Database, clock
) -> None:
    # On SQLite times are text: intake's own inserts must write them as SQLAlchemy does, or
    # "<" and "=" between the two go wrong (the queue's paging compares them).
    await intake.submit([report("wamid.1")])  # the clock stands on a whole minute
    now = clock()
    with db.read() as session:
        assert session.exec(select(Ticket).where(Ticket.last_activity_at == now)).one()
        assert session.exec(select(Ticket).where(Ticket.created_at >= now)).one()
        assert session.exec(select(Message).where(Message.received_at == now)).one()
        assert session.exec(select(RawEvent).where(RawEvent.received_at == now)).one()
        assert session.exec(select(TicketEvent).where(TicketEvent.at == now)).one()
        assert not session.exec(select(Ticket).where(Ticket.last_activity_at < now)).all()


async def test_intake_looks_rows_up_by_index_on_sqlite(tmp_path, clock) -> None:
    # Intake runs on every delivery: none of its statements may walk a table (or the channel's
    # whole ticket history), or each webhook gets slower as the regency's tickets pile up.
    # SQLite's planner picks indexes by rules, not statistics, so the plans are checked here.
    db = Database(f"sqlite:///{tmp_path / 'kanal.db'}")
    db.create_schema()
    sink = Intake(db, clock=clock)
    await sink.start()
    try:
        await sink.submit([report(f"wamid.seed{n}", sender=f"62811{n:07d}") for n in range(30)])
        statements: list[str] = []
        db.engine.dispose()
        event.listen(
            db.engine, "connect", lambda conn, _: conn.set_trace_callback(statements.append)
        )
        await sink.submit(
            [
                report("wamid.again", sender="628110000007"),  # joins an open ticket
                report("wamid.new", sender="628999999999"),  # opens one
                report("wamid.reply", sender="628110000008", reply_to="wamid.seed8"),
            ]
        )
    finally:
        await sink.stop()
    # FTS5 reads its own few-row shadow tables ('main'.'message_search_config'): not ours.
    lookups = [
        s
        for s in statements
        if s.lstrip().upper().startswith(("SELECT", "UPDATE")) and "'main'." not in s
    ]
    assert any("FROM tickets" in s for s in lookups)
    with sqlite3.connect(tmp_path / "kanal.db") as conn:
        for statement in lookups:
            plan = [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {statement}")]
            # A whole table, or every row of the channel: "(channel=?)" is all that narrows it.
            walks = [
                step
                for step in plan
                if (step.startswith("SCAN ") and "json_each" not in step)
                or step.endswith("(channel=?)")
            ]
            assert not walks, (statement, plan)
    db.dispose()
