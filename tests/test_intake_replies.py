"""Intake's own answers in the batch's transaction, on SQLite and PostgreSQL: acknowledgements
once per ticket and never to public or unreadable messages, status answers, reopen notices."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import col, select

from channels.base import InboundMessage
from conftest import FixedClock
from store.db import Database
from store.models import Message, OutboxItem, Ticket
from triage.intake import Intake
from triage.intake_replies import ReplyRules

SENT = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)


def message(external_id: str, text: str, sender: str = "6281234567890", **extra) -> InboundMessage:
    return InboundMessage(
        channel=extra.pop("channel", "whatsapp"),
        account="1234567890",
        external_id=external_id,
        sender_id=sender,
        sent_at=SENT,
        text=text,
        contact=f"+{sender}",
        **extra,
    )


@pytest.fixture
async def intake(db: Database, clock: FixedClock) -> AsyncIterator[Intake]:
    woken: list[int] = []
    sink = Intake(
        db,
        clock=clock,
        verify_due=lambda arrived: arrived + timedelta(days=3),
        replies=ReplyRules(acknowledge=frozenset({"whatsapp", "facebook"}), region="Pati"),
        on_replies_queued=lambda: woken.append(1),
    )
    sink.woken = woken  # type: ignore[attr-defined]
    await sink.start()
    yield sink
    await sink.stop()


def outbox(db: Database) -> list[tuple[str, str, str | None]]:
    """(idempotency key, recipient, the outbound message's text) of every outbox row."""
    with db.read() as session:
        rows = session.exec(select(OutboxItem).order_by(col(OutboxItem.id))).all()
        found = []
        for row in rows:
            text = session.get(Message, row.message_id).text if row.message_id else None
            found.append((row.idempotency_key, row.payload["recipient_id"], text))
        return found


async def test_one_acknowledgement_per_new_ticket_in_one_batch(
    intake: Intake, db: Database
) -> None:
    await intake.submit(
        [
            message("w1", "Jalan rusak di Kayen"),
            message("w2", "Fotonya menyusul"),  # the same reporter, the same new ticket
            message("w3", "Lampu mati", sender="6289999"),
        ]
    )
    await intake.submit([message("w1", "Jalan rusak di Kayen")])  # a redelivery: nothing
    keys = [key for key, _, _ in outbox(db)]
    assert keys == ["ack-LBP-2026-00001", "ack-LBP-2026-00002"]
    assert intake.woken  # type: ignore[attr-defined]
    with db.read() as session:
        counts = [t.message_count for t in session.exec(select(Ticket).order_by(col(Ticket.id)))]
    assert counts == [3, 2]  # the acknowledgement is part of the conversation


async def test_public_unreadable_and_unlisted_channels_get_no_acknowledgement(
    intake: Intake, db: Database
) -> None:
    await intake.submit(
        [
            message("comment:1_2", "Jalan rusak", channel="facebook", public=True),
            message("w1", "", sender="6281", parse_error="message type 'hologram' is not handled"),
            message("<a@mail>", "Jalan rusak", sender="a@mail.id", channel="email"),
        ]
    )
    assert outbox(db) == []
    await intake.submit([message("comment:1_3", "cek", channel="facebook", public=True)])
    assert outbox(db) == []  # a public "cek" is no status request: it joins the ticket
    with db.read() as session:
        first = session.exec(select(Ticket).order_by(col(Ticket.id))).first()
    assert first.message_count == 2


async def test_status_about_no_report_is_answered_outside_any_ticket(
    intake: Intake, db: Database
) -> None:
    await intake.submit([message("w1", "cek status")])
    [(key, recipient, text)] = outbox(db)
    assert key.startswith("auto_reply-") and recipient == "6281234567890"
    assert text is None  # no ticket, no message: the text is in the row's payload
    with db.read() as session:
        assert session.exec(select(Ticket)).all() == []
        payload = session.exec(select(OutboxItem)).one().payload
    assert payload["text"].startswith("Kami belum menemukan laporan dari Anda")
    assert payload["last_inbound_at"] == SENT.isoformat()


async def test_cek_in_the_batch_of_the_first_report_answers_about_that_report(
    intake: Intake, db: Database
) -> None:
    """The batch commits together: the report written just before is the one asked about."""
    await intake.submit(
        [
            message("w0", "cek", sender="6289999"),  # asked before reporting: no report yet
            message("w1", "Jalan rusak di Kayen"),
            message("w2", "cek"),
            message("w3", "Lampu mati", sender="6289999"),
        ]
    )
    acks, answers, unfound = [], [], []
    for key, recipient, text in outbox(db):
        if key.startswith("ack-"):
            acks.append(key)
        elif key.startswith("auto_reply-"):  # "cek" before any report: none found
            unfound.append(recipient)
        else:
            answers.append((recipient, text))
    assert (acks, unfound) == (["ack-LBP-2026-00001", "ack-LBP-2026-00002"], ["6289999"])
    [(recipient, text)] = answers
    assert recipient == "6281234567890"
    assert text is not None and text.startswith("Laporan LBP-2026-00001 sedang diperiksa")
    with db.read() as session:
        tickets = list(session.exec(select(Ticket).order_by(col(Ticket.id))))
        asked = session.exec(select(Message).where(Message.external_id == "w2")).one()
    assert [t.number for t in tickets] == ["LBP-2026-00001", "LBP-2026-00002"]
    assert asked.ticket_id == tickets[0].id  # kept on the report, not a ticket of its own


async def test_a_public_report_gets_no_check_back_after_its_resolve(
    database_url: str, tmp_path, clock: FixedClock
) -> None:
    """Under a comment the resolve uses the one private reply Meta allows: nothing follows."""
    from api_client import running_api

    async with running_api(database_url, tmp_path, clock) as api:
        comment = message("comment:1_2", "Jalan rusak di Kayen", channel="facebook", public=True)
        await api.runtime.intake.submit([comment, message("w1", "Jalan rusak di Juwana")])
        for number in ("LBP-2026-00001", "LBP-2026-00002"):
            status, _ = await api.act(number, {"action": "resolve", "message": "Sudah."})
            assert status == 200
        with api.runtime.db.read() as session:
            tickets = session.exec(select(Ticket).order_by(col(Ticket.id))).all()
            out = {
                t.number: len(
                    session.exec(
                        select(Message).where(Message.ticket_id == t.id, Message.direction == "out")
                    ).all()
                )
                for t in tickets
            }
    assert tickets[0].flags["public"] is True and "public" not in tickets[1].flags
    assert out == {"LBP-2026-00001": 1, "LBP-2026-00002": 2}  # the resolve; and its check-back
