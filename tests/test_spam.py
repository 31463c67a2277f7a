"""Senders marked as spam, through the WhatsApp webhook, the fake Cloud API and the inbox, on
SQLite and PostgreSQL: an operator marks the reporter; what they write later is kept on a report
closed as spam, never answered, out of the default queue and in the "Spam" view; the mark is
lifted and the next report is a report like any."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlmodel import col, select
from test_whatsapp_loops import delivery

from api_client import Api, running_api
from fake_whatsapp_cloud import FakeWhatsAppCloud
from fake_whatsapp_webhooks import OUR_ACCOUNT, signature, webhook_bytes
from inbox_site import add_staff, browser
from store.models import Message, OutboxItem, Reporter, Ticket, TicketEvent
from store.users import create_token

WA_SECRET = "rahasia-aplikasi"
SPAMMER = "6285700001111"
WARGA = "6281200002222"


@pytest.fixture
async def fake() -> AsyncIterator[FakeWhatsAppCloud]:
    server = await FakeWhatsAppCloud().start()
    yield server
    await server.stop()


@pytest.fixture
async def api(
    database_url: str, tmp_path: Path, clock, fake: FakeWhatsAppCloud
) -> AsyncIterator[Api]:
    whatsapp = {
        "enabled": True,
        "verify_token": "v",
        "app_secret": WA_SECRET,
        "access_token": fake.access_token,
        "phone_number_id": OUR_ACCOUNT,
        "api_base": fake.api_base,
    }
    async with running_api(database_url, tmp_path, clock, channels={"whatsapp": whatsapp}) as api:
        add_staff(api, "siti", "operator")
        add_staff(api, "pupr1", "opd", opd="pupr")
        yield api


class Sender:
    serial = 0


async def write(api: Api, text: str, sender: str = SPAMMER) -> None:
    """The sender writes on WhatsApp; answered 200 once stored."""
    Sender.serial += 1
    at = int(api.clock().timestamp()) - 30
    body = webhook_bytes(delivery(f"wamid.SPAM{Sender.serial:05d}", sender, at, text=text))
    headers = {"X-Hub-Signature-256": signature(body, WA_SECRET)}
    answer = await api.client.post("/webhooks/whatsapp", data=body, headers=headers)
    assert answer.status == 200


def tickets(api: Api) -> list[tuple[str, str, str | None, int]]:
    """(number, status, resolution, messages in) of every ticket."""
    with api.runtime.db.read() as session:
        found = []
        for ticket in session.exec(select(Ticket).order_by(col(Ticket.id))):
            inbound = session.exec(
                select(Message).where(Message.ticket_id == ticket.id, Message.direction == "in")
            ).all()
            found.append((ticket.number, ticket.status, ticket.resolution, len(inbound)))
        return found


def outbox_count(api: Api) -> int:
    with api.runtime.db.read() as session:
        return len(session.exec(select(OutboxItem)).all())


def listed(html: str) -> list[str]:
    return re.findall(r'<tr class="ticket-row" data-number="([^"]+)"', html)


async def test_a_sender_marked_as_spam_is_kept_unanswered_and_out_of_the_queue(
    api: Api, fake: FakeWhatsAppCloud
) -> None:
    await write(api, "Jalan rusak di Desa Kayen, mohon diperbaiki")
    await write(api, "Lampu jalan mati di Desa Sukolilo", sender=WARGA)
    await fake.wait_for("POST", "/v23.0/", 2)  # both acknowledged

    async with browser(api) as b:
        await b.sign_in("siti")
        _, page = await b.page("/tickets/LBP-2026-00001")
        assert 'data-action="mark_spam"' in page and 'data-action="unmark_spam"' not in page
        assert (await b.act("LBP-2026-00001", action="mark_spam")).status == 303

        # Closed as spam without a word to the sender.
        await asyncio.sleep(0.2)
        assert len(fake.sent) == 2
        assert tickets(api)[0] == ("LBP-2026-00001", "closed", "spam", 1)
        _, page = await b.page("/tickets/LBP-2026-00001")
        assert "Pelapor ini ditandai spam oleh siti" in page
        assert 'data-action="unmark_spam"' in page and 'data-action="mark_spam"' not in page

        # What the sender writes later is stored on that report, unanswered: a new message,
        # a status request, the report's number.
        outbox_before = outbox_count(api)
        await write(api, "PROMO pinjaman cepat cair tanpa jaminan, hubungi kami")
        await write(api, "cek")
        await write(api, "LBP-2026-00001")
        await asyncio.sleep(0.2)
        assert (len(fake.sent), outbox_count(api)) == (2, outbox_before)
        assert tickets(api) == [
            ("LBP-2026-00001", "closed", "spam", 4),
            ("LBP-2026-00002", "new", None, 1),
        ]

        # Out of the default queue, in the "Spam" view with its count.
        _, queue = await b.page("/")
        assert listed(queue) == ["LBP-2026-00002"]
        assert 'data-count-key="views.spam">1<' in queue
        _, spam = await b.page("/", view="spam")
        assert listed(spam) == ["LBP-2026-00001"]

        # The mark is lifted: the next message is a report like any, acknowledged.
        assert (await b.act("LBP-2026-00001", action="unmark_spam")).status == 303
        await write(api, "Maaf, tadi nomor saya dipakai orang. Jembatan di Desa Kayen retak")
        await fake.wait_for("POST", "/v23.0/", 3)
        assert tickets(api)[2] == ("LBP-2026-00003", "new", None, 1)
        assert fake.sent[2]["text"]["body"].startswith("Terima kasih, laporan Anda sudah kami")
        _, queue = await b.page("/")
        assert listed(queue) == ["LBP-2026-00003", "LBP-2026-00002"]

    with api.runtime.db.read() as session:
        marks = session.exec(
            select(TicketEvent.action, TicketEvent.actor)
            .where(col(TicketEvent.action).in_(["mark_spam", "unmark_spam"]))
            .order_by(col(TicketEvent.id))
        ).all()
        reporter = session.exec(select(Reporter).where(Reporter.sender_id == SPAMMER)).one()
    assert [tuple(m) for m in marks] == [("mark_spam", "siti"), ("unmark_spam", "siti")]
    assert (reporter.spam_marked_at, reporter.spam_marked_by) == (None, None)


async def test_only_staff_mark_and_a_mark_is_lifted_once(api: Api, fake: FakeWhatsAppCloud) -> None:
    await write(api, "Jalan rusak di Desa Kayen, mohon diperbaiki")
    number = "LBP-2026-00001"
    with api.runtime.db.write() as session:
        pupr = create_token(session, "pupr1", now=api.clock())
    assert (await api.act(number, {"action": "verify", "category": "jalan"}))[0] == 200
    assert (await api.act(number, {"action": "forward"}))[0] == 200
    status, body = await api.act(number, {"action": "mark_spam"}, token=pupr)
    assert (status, body["error"]) == (403, "an OPD account cannot mark_spam")
    assert (await api.act(number, {"action": "unmark_spam"}))[0] == 422  # not marked
    assert (await api.act(number, {"action": "mark_spam"}))[0] == 200
    _, ticket = await api.get(f"/api/tickets/{number}")
    assert (ticket["status"], ticket["resolution"]) == ("closed", "spam")
    assert (await api.act(number, {"action": "mark_spam"}))[0] == 422  # already marked
    assert (await api.act(number, {"action": "unmark_spam"}))[0] == 200


async def test_after_a_settled_report_a_marked_sender_gets_a_report_closed_as_spam(
    api: Api, fake: FakeWhatsAppCloud
) -> None:
    await write(api, "Jalan rusak di Desa Kayen, mohon diperbaiki")
    number = "LBP-2026-00001"
    assert (await api.act(number, {"action": "resolve", "message": "Sudah."}))[0] == 200
    assert (await api.act(number, {"action": "mark_spam"}))[0] == 200  # the sender only
    await fake.wait_for("POST", "/v23.0/", 3)  # acknowledgement, resolve, check-back
    sent = len(fake.sent)
    await write(api, "sudah 5")  # no check-back answer either
    await write(api, "PROMO pinjaman cepat cair")
    await asyncio.sleep(0.2)
    assert len(fake.sent) == sent
    assert tickets(api) == [
        ("LBP-2026-00001", "resolved", "resolved", 1),
        ("LBP-2026-00002", "closed", "spam", 2),
    ]
    _, spam = await api.get("/api/tickets/LBP-2026-00002")
    assert [(e["action"], e["from_state"], e["to_state"]) for e in spam["events"]] == [
        ("opened", None, "new"),
        ("spam_sender", "new", "closed"),
    ]
    assert "checkback_rating" not in (await api.get(f"/api/tickets/{number}"))[1]["flags"]
    async with browser(api) as b:  # the kept status counts follow the ticket closed at once
        await b.sign_in("siti")
        _, queue = await b.page("/")
        assert "Terbuka (0)" in queue and "Ditutup (1)" in queue
        assert listed(queue) == []
