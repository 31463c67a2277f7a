"""The reporter always knows where their report stands, through the WhatsApp webhook, the outbox
and the fake Cloud API: the acknowledgement with the number, status on request, follow-ups that
reopen, merged reporters told the outcome, hints that follow the conversation (issue 18)."""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlmodel import col, select
from test_whatsapp_e2e import APP_SECRET
from test_whatsapp_parse import OUR_ACCOUNT, all_cases

from conftest import FixedClock
from fake_whatsapp_cloud import FakeWhatsAppCloud
from fake_whatsapp_webhooks import post_webhook
from runtime import Runtime, build_runtime
from settings import parse_settings
from store.db import Database
from store.models import Message, OutboxItem, Ticket, TicketEvent
from store.users import add_user, create_token
from support.waiting import until
from triage.action_requests import Answer, Forward, Merge, Reject, Resolve, Verify

DEWI = "6289876543210"
BUDI = "6281234567890"
REPORT = "Lampu jalan di Jl. Kolonel Sunandar mati sejak 3 hari, mohon segera diperbaiki"
_TEMPLATE = json.loads(all_cases()["fixtures/text__indonesian_unicode"])


def delivery(wamid: str, sender: str, timestamp: int, **message: Any) -> dict[str, Any]:
    """A `messages` webhook as Meta sends it, from `sender`: text=..., location=..., image=..."""
    body = copy.deepcopy(_TEMPLATE)
    value = body["entry"][0]["changes"][0]["value"]
    value["contacts"] = [{"profile": {"name": f"Pelapor {sender[-4:]}"}, "wa_id": sender}]
    entry: dict[str, Any] = {"from": sender, "id": wamid, "timestamp": str(timestamp)}
    if "text" in message:
        entry |= {"type": "text", "text": {"body": message["text"]}}
    elif "location" in message:
        entry |= {"type": "location", "location": message["location"]}
    elif "image" in message:
        entry |= {"type": "image", "image": message["image"]}
    elif "button" in message:  # a reply button pressed: (id, title), quoting our message
        ident, title = message["button"]
        reply = {"type": "button_reply", "button_reply": {"id": ident, "title": title}}
        entry |= {"type": "interactive", "interactive": reply}
        entry["context"] = {"from": OUR_ACCOUNT, "id": message["quoting"]}
    value["messages"] = [entry]
    return body


@dataclass
class Kanal:
    runtime: Runtime
    db: Database
    url: str
    http: aiohttp.ClientSession
    clock: FixedClock
    serial: int = 0

    async def send(self, sender: str = DEWI, **message: Any) -> None:
        """The reporter writes, `message` as for `delivery`; answered once durable."""
        self.serial += 1
        wamid = f"wamid.LOOPS{self.serial:04d}"
        at = int(self.clock().timestamp()) - 60
        body = delivery(wamid, sender, at, **message)
        assert await post_webhook(self.http, self.url, body, APP_SECRET) == (200, "ok")

    def tickets(self) -> list[Ticket]:
        with self.db.read() as session:
            return list(session.exec(select(Ticket).order_by(col(Ticket.id))))

    def ticket(self, number: str) -> Ticket:
        with self.db.read() as session:
            return session.exec(select(Ticket).where(Ticket.number == number)).one()

    def outbox(self) -> list[OutboxItem]:
        with self.db.read() as session:
            return list(session.exec(select(OutboxItem).order_by(col(OutboxItem.id))))

    def history(self, number: str) -> list[Message]:
        with self.db.read() as session:
            ticket = session.exec(select(Ticket).where(Ticket.number == number)).one()
            query = select(Message).where(Message.ticket_id == ticket.id).order_by(col(Message.id))
            return list(session.exec(query))

    def events(self, number: str) -> list[TicketEvent]:
        with self.db.read() as session:
            ticket = session.exec(select(Ticket).where(Ticket.number == number)).one()
            query = select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
            return list(session.exec(query.order_by(col(TicketEvent.id))))


def settings_document(db: Database, tmp_path: Path, fake: FakeWhatsAppCloud) -> dict[str, Any]:
    return {
        "data_dir": str(tmp_path / "data"),
        "database": {"url": db.url},
        "channels": {
            "whatsapp": {
                "enabled": True,
                "verify_token": "e2e-verify",
                "app_secret": APP_SECRET,
                "access_token": fake.access_token,
                "phone_number_id": OUR_ACCOUNT,
                "api_base": fake.api_base,
            }
        },
        "opd": [{"code": "PUPR", "name": "Dinas Pekerjaan Umum dan Penataan Ruang"}],
        "category": [
            {"code": "jalan", "name": "Jalan rusak", "opd": "PUPR", "keywords": ["jalan"]}
        ],
    }


@pytest.fixture
async def fake() -> AsyncIterator[FakeWhatsAppCloud]:
    server = await FakeWhatsAppCloud().start()
    yield server
    await server.stop()


@pytest.fixture
def document(
    db: Database, tmp_path: Path, fake: FakeWhatsAppCloud, request: pytest.FixtureRequest
) -> dict[str, Any]:
    """The settings; a test's indirect parameter is merged into `[channels.whatsapp]`, but for
    its `triage` key, which is `[triage]`."""
    document = settings_document(db, tmp_path, fake)
    given = dict(getattr(request, "param", {}))
    document["triage"] = given.pop("triage", {})
    document["channels"]["whatsapp"].update(given)
    return document


@pytest.fixture
async def kanal(
    db: Database, tmp_path: Path, clock: FixedClock, document: dict[str, Any]
) -> AsyncIterator[Kanal]:
    settings = parse_settings(document, tmp_path / "config.toml")
    runtime = build_runtime(settings, tmp_path, db, clock=clock)
    server = TestServer(await runtime.web_app())
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as http:
            url = str(server.make_url("/webhooks/whatsapp"))
            yield Kanal(runtime, db, url, http, clock)
    finally:
        await server.close()


async def sent_count(fake: FakeWhatsAppCloud, count: int) -> list[str]:
    """The texts the fake Cloud API accepted, once there are `count` of them."""
    await until(lambda: len(fake.sent) >= count or None)
    await asyncio.sleep(0.1)  # nothing more should follow
    return [text_of(body) for body in fake.sent]


def text_of(body: dict[str, Any]) -> str:
    """What the reporter reads of a send: a text's body or a reply-button message's."""
    if body["type"] == "interactive":
        return body["interactive"]["body"]["text"]
    return body["text"]["body"]


# 1. Acknowledgement with the number


async def test_a_new_report_is_acknowledged_once_with_its_number_and_deadline(
    kanal: Kanal, fake: FakeWhatsAppCloud
) -> None:
    await kanal.send(text=REPORT)
    await kanal.send(text="Tepatnya di depan SD 2")  # the same ticket: no second acknowledgement

    [ack] = await sent_count(fake, 1)
    [ticket] = kanal.tickets()
    assert ticket.number == "LBP-2026-00001"
    assert ack == (
        "Terima kasih, laporan Anda sudah kami terima dengan nomor LBP-2026-00001. Simpan nomor"
        " ini untuk menanyakan perkembangannya: kirim nomornya atau ketik CEK. Petugas kami akan"
        " memeriksanya paling lambat Kamis, 26 November 2026 pukul 23.59 WIB."
    )
    assert fake.sent[0]["to"] == DEWI
    [row] = kanal.outbox()
    assert (row.idempotency_key, row.state) == ("ack-LBP-2026-00001", "sent")
    out = [m for m in kanal.history(ticket.number) if m.direction == "out"]
    assert [(m.author, m.text, m.delivery_state) for m in out] == [("system", ack, "sent")]
    assert kanal.ticket(ticket.number).message_count == 3


async def test_an_unreadable_message_is_not_acknowledged(
    kanal: Kanal, fake: FakeWhatsAppCloud
) -> None:
    body = all_cases()["fixtures/unknown_type__invented"]
    assert await post_webhook(kanal.http, kanal.url, body, APP_SECRET) == (200, "ok")
    [ticket] = kanal.tickets()
    assert ticket.number == "LBP-2026-00001"
    await asyncio.sleep(0.2)
    assert (fake.sent, kanal.outbox()) == ([], [])


@pytest.mark.parametrize("document", [{"acknowledge": False}], indirect=True)
async def test_a_channel_may_turn_acknowledgements_off(
    kanal: Kanal, fake: FakeWhatsAppCloud
) -> None:
    await kanal.send(text=REPORT)
    assert len(kanal.tickets()) == 1
    await asyncio.sleep(0.2)
    assert (fake.sent, kanal.outbox()) == ([], [])


# 2. Status on request


async def test_the_reporter_asks_for_the_status_by_number_or_cek(
    kanal: Kanal, fake: FakeWhatsAppCloud
) -> None:
    await kanal.send(text=REPORT)
    await sent_count(fake, 1)
    await kanal.send(text="LBP-2026-00001")
    await kanal.send(text="cek status")

    texts = await sent_count(fake, 3)
    expected = (
        "Laporan LBP-2026-00001 sedang diperiksa oleh petugas kami. Tenggat berikutnya:"
        " Kamis, 26 November 2026 pukul 23.59 WIB."
    )
    assert texts[1:] == [expected, expected]
    [ticket] = kanal.tickets()  # no new ticket
    history = kanal.history(ticket.number)
    assert [m.text for m in history if m.direction == "in"][1:] == ["LBP-2026-00001", "cek status"]
    assert ticket.status == "new"


async def test_a_status_request_names_the_opd_and_its_deadline(
    kanal: Kanal, fake: FakeWhatsAppCloud
) -> None:
    await kanal.send(text=REPORT)
    await sent_count(fake, 1)
    actions = kanal.runtime.actions
    actions.apply("LBP-2026-00001", Verify(category="jalan"), actor="operator1")
    actions.apply("LBP-2026-00001", Forward(), actor="operator1")
    await sent_count(fake, 2)
    await kanal.send(text="Status laporan LBP-2026-00001?")

    texts = await sent_count(fake, 3)
    assert texts[2] == (
        "Laporan LBP-2026-00001 sudah kami teruskan ke Dinas Pekerjaan Umum dan Penataan Ruang"
        " dan sedang menunggu tindak lanjutnya. Tenggat berikutnya: Rabu, 2 Desember 2026"
        " pukul 23.59 WIB."
    )


async def test_another_reporters_number_gets_no_details(
    kanal: Kanal, fake: FakeWhatsAppCloud
) -> None:
    await kanal.send(text=REPORT)
    await sent_count(fake, 1)
    await kanal.send(sender=BUDI, text="LBP-2026-00001")

    texts = await sent_count(fake, 2)
    assert texts[1] == (
        "Kami tidak menemukan laporan dengan nomor itu yang Anda kirim lewat saluran ini. Periksa"
        " kembali nomornya, atau ketik CEK untuk laporan terakhir Anda."
    )
    assert fake.sent[1]["to"] == BUDI
    [ticket] = kanal.tickets()  # neither a new ticket nor a message on Dewi's
    assert [m.direction for m in kanal.history(ticket.number)] == ["in", "out"]


async def test_a_message_with_news_and_a_number_is_not_a_status_request(
    kanal: Kanal, fake: FakeWhatsAppCloud
) -> None:
    await kanal.send(text=REPORT)
    await sent_count(fake, 1)
    await kanal.send(text="LBP-2026-00001 lampunya sekarang padam total")
    await asyncio.sleep(0.2)
    assert len(fake.sent) == 1
    [ticket] = kanal.tickets()
    assert ticket.message_count == 3  # report, acknowledgement, the news


# 3. Follow-ups thread


async def resolved_report(kanal: Kanal, fake: FakeWhatsAppCloud) -> str:
    """Dewi's report, acknowledged and resolved; the number."""
    await kanal.send(text=REPORT)
    await sent_count(fake, 1)
    number = kanal.tickets()[0].number
    kanal.runtime.actions.apply(number, Resolve(message="Lampu sudah diganti."), actor="op1")
    await sent_count(fake, 3)  # the resolve and the check-back question
    return number


async def test_a_follow_up_soon_after_resolution_reopens_the_ticket(
    kanal: Kanal, fake: FakeWhatsAppCloud, clock: FixedClock
) -> None:
    number = await resolved_report(kanal, fake)
    clock.advance(timedelta(minutes=1))
    await kanal.send(text="Lampunya sudah mati lagi")

    texts = await sent_count(fake, 4)
    assert texts[3] == (
        "Laporan LBP-2026-00001 kami buka kembali dan akan diperiksa lagi oleh petugas kami."
        " Terima kasih atas informasinya."
    )
    [ticket] = kanal.tickets()
    assert (ticket.status, ticket.resolution, ticket.closed_at) == ("new", None, None)
    assert ticket.open_key is not None
    assert ticket.verify_due_at is not None  # back on the operators' clock
    last = kanal.events(number)[-1]
    assert (last.actor, last.action, last.from_state, last.to_state, last.data) == (
        "system",
        "reopen",
        "resolved",
        "new",
        {"by": "follow_up"},
    )
    assert [m.text for m in kanal.history(number) if m.direction == "in"][-1] == (
        "Lampunya sudah mati lagi"
    )
    # The reopened ticket is the reporter's open one again: the next message joins it.
    await kanal.send(text="Fotonya menyusul")
    await asyncio.sleep(0.2)
    assert len(kanal.tickets()) == 1 and len(fake.sent) == 4


async def test_a_follow_up_after_the_window_opens_a_ticket_linked_to_the_old(
    kanal: Kanal, fake: FakeWhatsAppCloud, clock: FixedClock
) -> None:
    number = await resolved_report(kanal, fake)
    clock.advance(timedelta(days=14, minutes=1))
    await kanal.send(text="Lampunya mati lagi sejak kemarin")

    texts = await sent_count(fake, 4)
    old, new = kanal.tickets()
    assert (old.number, old.status) == (number, "resolved")
    assert (new.number, new.status) == ("LBP-2026-00002", "new")
    assert new.hints.follows_ticket_id == old.id
    assert texts[3].startswith(
        "Terima kasih, laporan Anda sudah kami terima dengan nomor LBP-2026-00002."
    )


async def test_a_status_request_after_resolution_does_not_reopen(
    kanal: Kanal, fake: FakeWhatsAppCloud, clock: FixedClock
) -> None:
    await resolved_report(kanal, fake)
    clock.advance(timedelta(minutes=5))
    await kanal.send(text="cek")

    texts = await sent_count(fake, 4)
    assert texts[3] == (
        "Laporan LBP-2026-00001 sudah selesai ditindaklanjuti. Bila masalahnya belum beres,"
        " balas pesan ini."
    )
    [ticket] = kanal.tickets()
    assert ticket.status == "resolved"


# 4. Merged reporters


async def merged_reports(kanal: Kanal, fake: FakeWhatsAppCloud) -> None:
    """Dewi's report and Budi's, merged into Dewi's; both acknowledged, Budi told of the merge."""
    await kanal.send(text=REPORT)
    await kanal.send(sender=BUDI, text="Lampu PJU Jl. Kolonel Sunandar padam, tolong")
    await sent_count(fake, 2)
    actions = kanal.runtime.actions
    actions.apply("LBP-2026-00002", Merge(into="LBP-2026-00001"), actor="op1")
    texts = await sent_count(fake, 3)
    assert fake.sent[2]["to"] == BUDI
    assert texts[2] == (
        "Laporan LBP-2026-00002 sama dengan laporan LBP-2026-00001 yang sedang kami tangani,"
        " sehingga kami gabungkan. Kami akan mengabari Anda bila laporan itu selesai. Untuk"
        " menanyakan perkembangannya, kirim nomor LBP-2026-00002 atau ketik CEK."
    )


async def test_merged_reporters_can_ask_and_hear_the_outcome(
    kanal: Kanal, fake: FakeWhatsAppCloud
) -> None:
    await merged_reports(kanal, fake)
    await kanal.send(sender=BUDI, text="LBP-2026-00002")
    texts = await sent_count(fake, 4)
    assert texts[3] == (
        "Laporan LBP-2026-00002 sama dengan laporan LBP-2026-00001 dan kami tangani bersama."
        " Laporan LBP-2026-00001 sedang diperiksa oleh petugas kami. Tenggat berikutnya:"
        " Kamis, 26 November 2026 pukul 23.59 WIB."
    )

    kanal.runtime.actions.apply(
        "LBP-2026-00001", Resolve(message="Lampu sudah diganti."), actor="op1"
    )
    texts = await sent_count(fake, 7)
    assert [body["to"] for body in fake.sent[4:]] == [DEWI, DEWI, BUDI]  # resolve, check-back
    assert texts[6] == (
        "Laporan LBP-2026-00001, yang sama dengan laporan Anda LBP-2026-00002, sudah selesai"
        " ditindaklanjuti. Terima kasih atas kepedulian Anda untuk Kabupaten Pati. Bila"
        " masalahnya belum beres, balas pesan ini."
    )
    resolved = kanal.events("LBP-2026-00001")[-1]
    assert resolved.data == {"told_merged": ["LBP-2026-00002"]}


async def test_merged_reporters_hear_a_rejection(kanal: Kanal, fake: FakeWhatsAppCloud) -> None:
    await merged_reports(kanal, fake)
    kanal.runtime.actions.apply("LBP-2026-00001", Reject(resolution="not_factual"), actor="op1")
    texts = await sent_count(fake, 5)
    assert fake.sent[4]["to"] == BUDI
    assert texts[4].startswith(
        "Laporan LBP-2026-00001, yang sama dengan laporan Anda LBP-2026-00002, sudah kami tutup"
    )


# 7. Hints that follow the conversation

KAYEN = {"latitude": -6.9036, "longitude": 111.0030, "name": "Balai Desa Kayen"}
PATI_KIDUL = {"latitude": -6.7560, "longitude": 111.0380, "name": "Pati Kidul"}
PHOTO = {"id": "media-loops-1", "mime_type": "image/jpeg", "sha256": "abc", "caption": ""}


async def flags_until(kanal: Kanal, number: str, check: Any) -> dict[str, Any]:
    """The ticket's flags once `check(flags)` holds (the assessment runs after the commit)."""
    return await until(lambda: (f := kanal.ticket(number).flags) and check(f) and f)


async def test_missing_facts_are_recomputed_when_the_reporter_sends_them(
    kanal: Kanal, fake: FakeWhatsAppCloud
) -> None:
    fake.add_media("media-loops-1", b"\xff\xd8\xff\xe0 not really a jpeg")
    await kanal.send(text="Jalan berlubang besar di depan pasar, mohon diperbaiki")
    await flags_until(kanal, "LBP-2026-00001", lambda f: f.get("missing") == ["location", "photo"])

    await kanal.send(location=KAYEN)
    await flags_until(kanal, "LBP-2026-00001", lambda f: f.get("missing") == ["photo"])
    await kanal.send(image=PHOTO)
    await flags_until(kanal, "LBP-2026-00001", lambda f: f.get("missing") == [])
    assert len(kanal.tickets()) == 1


async def test_a_later_location_far_away_clears_a_duplicate_hint(
    kanal: Kanal, fake: FakeWhatsAppCloud
) -> None:
    await kanal.send(text="Jalan berlubang besar di depan balai desa, mohon segera diperbaiki")
    await kanal.send(location=KAYEN)
    await kanal.send(
        sender=BUDI, text="Jalan berlubang besar di depan balai desa, mohon diperbaiki"
    )
    second = "LBP-2026-00002"
    flags = await flags_until(kanal, second, lambda f: "duplicate_of" in f)
    assert flags["duplicate_of"] == "LBP-2026-00001"

    await kanal.send(sender=BUDI, location=PATI_KIDUL)  # some 17 km from Kayen
    flags = await flags_until(kanal, second, lambda f: f.get("duplicate_of") is None)
    assert flags["duplicate_score"] is None


# 5. The OPD's answer

ANSWER = "Lampu PJU di Jl. Kolonel Sunandar sudah kami ganti pada 24 November 2026."


async def forwarded_report(kanal: Kanal, fake: FakeWhatsAppCloud) -> str:
    await kanal.send(text=REPORT)
    await sent_count(fake, 1)
    actions = kanal.runtime.actions
    actions.apply("LBP-2026-00001", Verify(category="jalan"), actor="op1")
    actions.apply("LBP-2026-00001", Forward(), actor="op1")
    await sent_count(fake, 2)
    return "LBP-2026-00001"


async def test_in_review_the_opds_answer_waits_for_the_operators_resolve(
    kanal: Kanal, fake: FakeWhatsAppCloud
) -> None:
    number = await forwarded_report(kanal, fake)
    kanal.runtime.actions.apply(number, Answer(message=ANSWER), actor="pupr1")
    await asyncio.sleep(0.2)
    assert len(fake.sent) == 2  # nothing to the reporter yet
    ticket = kanal.ticket(number)
    assert ticket.status == "answered"
    assert (ticket.flags["opd_answer"], ticket.flags["opd_answer_sent"]) == (ANSWER, False)
    answered = kanal.events(number)[-1]
    assert (answered.actor, answered.action, answered.to_state) == ("pupr1", "answer", "answered")
    assert answered.data == {"mode": "review", "opd": "PUPR"}

    await kanal.send(text="cek")
    texts = await sent_count(fake, 3)
    assert texts[2].startswith(
        "Laporan LBP-2026-00001 sudah ditanggapi oleh Dinas Pekerjaan Umum dan Penataan Ruang"
    )

    kanal.runtime.actions.apply(number, Resolve(), actor="op1")  # publishes the OPD's answer
    texts = await sent_count(fake, 4)
    assert texts[3] == (
        f"{ANSWER}\n\nLaporan LBP-2026-00001 sudah selesai ditindaklanjuti. Terima kasih atas"
        " kepedulian Anda untuk Kabupaten Pati. Bila masalahnya belum beres, balas pesan ini."
    )
    ticket = kanal.ticket(number)
    assert (ticket.status, ticket.flags["opd_answer_sent"]) == ("resolved", True)


@pytest.mark.parametrize("document", [{"triage": {"opd_answers": "direct"}}], indirect=True)
async def test_a_direct_answer_goes_out_at_once_and_the_resolve_closes_kindly(
    kanal: Kanal, fake: FakeWhatsAppCloud
) -> None:
    number = await forwarded_report(kanal, fake)
    kanal.runtime.actions.apply(number, Answer(message=ANSWER), actor="pupr1")
    texts = await sent_count(fake, 3)
    assert texts[2] == ANSWER
    assert kanal.ticket(number).status == "answered"
    out = [m for m in kanal.history(number) if m.direction == "out"]
    assert out[-1].author == "pupr1"

    kanal.runtime.actions.apply(number, Resolve(), actor="op1")
    texts = await sent_count(fake, 4)
    assert texts[3].startswith("Laporan LBP-2026-00001 sudah selesai ditindaklanjuti.")


# 6. Check-back and satisfaction

CHECKBACK_QUESTION = {
    "type": "button",
    "body": {
        "text": "Apakah masalah pada laporan LBP-2026-00001 sudah beres? Balas SUDAH atau BELUM,"
        " dengan nilai kepuasan Anda 1–5 (5 = sangat puas), misalnya: SUDAH 5."
    },
    "action": {
        "buttons": [
            {"type": "reply", "reply": {"id": "checkback:pleased", "title": "Sudah beres, puas"}},
            {
                "type": "reply",
                "reply": {"id": "checkback:displeased", "title": "Beres, tidak puas"},
            },
            {"type": "reply", "reply": {"id": "checkback:not_fixed", "title": "Belum beres"}},
        ]
    },
}


async def satisfaction(kanal: Kanal) -> dict[str, Any]:
    """The figures of /api/stats a supervisor reads."""
    with kanal.db.write() as session:
        add_user(session, "kepala", "rahasia-sekali", "supervisor", now=kanal.clock())
        token = create_token(session, "kepala", now=kanal.clock())
    stats_url = kanal.url.replace("/webhooks/whatsapp", "/api/stats")
    headers = {"Authorization": f"Bearer {token}"}
    async with kanal.http.get(stats_url, headers=headers) as response:
        assert response.status == 200
        return (await response.json())["satisfaction"]


async def test_the_reporter_presses_a_button_and_the_rating_counts(
    kanal: Kanal, fake: FakeWhatsAppCloud, clock: FixedClock
) -> None:
    number = await forward_and_resolve(kanal, fake)
    question = await kanal_sent_id(kanal, fake, 3)
    clock.advance(timedelta(hours=1))
    await kanal.send(button=("checkback:displeased", "Beres, tidak puas"), quoting=question)

    texts = await sent_count(fake, 5)
    assert texts[4] == "Terima kasih atas jawaban Anda untuk laporan LBP-2026-00001."
    ticket = kanal.ticket(number)
    assert ticket.status == "resolved"
    # "tidak puas" sits at 2 on the question's scale (5 = sangat puas).
    assert (ticket.flags["checkback_fixed"], ticket.flags["checkback_rating"]) == (True, 2)
    last = kanal.events(number)[-1]
    assert (last.action, last.data) == ("checkback", {"fixed": True, "rating": 2})
    stored = [m for m in kanal.history(number) if m.direction == "in"][-1]
    assert (stored.text, stored.reply_to) == ("Beres, tidak puas", question)
    outcome = {"resolved": 1, "reopened": 0, "reopened_share": 0.0, "rated": 1, "mean_rating": 2.0}
    assert await satisfaction(kanal) == {
        "by_opd": {"PUPR": outcome},
        "by_category": {"jalan": outcome},
    }


async def test_the_belum_button_reopens_to_the_same_opd(
    kanal: Kanal, fake: FakeWhatsAppCloud, clock: FixedClock
) -> None:
    number = await forward_and_resolve(kanal, fake)
    question = await kanal_sent_id(kanal, fake, 3)
    clock.advance(timedelta(hours=1))
    await kanal.send(button=("checkback:not_fixed", "Belum beres"), quoting=question)

    texts = await sent_count(fake, 5)
    assert texts[4] == (
        "Terima kasih. Laporan LBP-2026-00001 kami buka kembali dan kami teruskan lagi ke Dinas"
        " Pekerjaan Umum dan Penataan Ruang beserta keterangan Anda."
    )
    ticket = kanal.ticket(number)
    assert (ticket.status, ticket.opd, ticket.closed_at) == ("forwarded", "PUPR", None)
    assert (ticket.flags["checkback_fixed"], ticket.flags["checkback_rating"]) == (False, None)
    last = kanal.events(number)[-1]
    assert (last.action, last.to_state, last.data["words"]) == (
        "not_fixed",
        "forwarded",
        "Belum beres",
    )
    outcome = {
        "resolved": 1,
        "reopened": 1,
        "reopened_share": 1.0,
        "rated": 0,
        "mean_rating": None,
    }
    assert await satisfaction(kanal) == {
        "by_opd": {"PUPR": outcome},
        "by_category": {"jalan": outcome},
    }


async def test_a_button_of_an_old_question_on_an_open_report_is_a_follow_up(
    kanal: Kanal, fake: FakeWhatsAppCloud, clock: FixedClock
) -> None:
    """Pressed after the report was reopened, a button is no answer: it joins the open ticket."""
    number = await forward_and_resolve(kanal, fake)
    question = await kanal_sent_id(kanal, fake, 3)
    await kanal.send(button=("checkback:not_fixed", "Belum beres"), quoting=question)
    await sent_count(fake, 5)
    await kanal.send(button=("checkback:pleased", "Sudah beres, puas"), quoting=question)
    await asyncio.sleep(0.2)
    ticket = kanal.ticket(number)
    assert ticket.status == "forwarded"
    assert ticket.flags["checkback_fixed"] is False
    assert [m.text for m in kanal.history(number) if m.direction == "in"][-1] == (
        "Sudah beres, puas"
    )


async def forward_and_resolve(kanal: Kanal, fake: FakeWhatsAppCloud) -> str:
    """Dewi's report forwarded to PUPR and resolved: acknowledgement, forwarding, resolve,
    check-back question (with its buttons)."""
    number = await forwarded_report(kanal, fake)
    kanal.runtime.actions.apply(number, Resolve(message="Sudah diganti."), actor="pupr1")
    await sent_count(fake, 4)
    assert fake.sent[3]["type"] == "interactive"
    assert fake.sent[3]["interactive"] == CHECKBACK_QUESTION
    return number


async def kanal_sent_id(kanal: Kanal, fake: FakeWhatsAppCloud, index: int) -> str:
    """The wamid the fake gave the `index`th message it accepted, as Kanal recorded it."""
    body = fake.sent[index]
    key = body["biz_opaque_callback_data"]

    def recorded() -> str | None:
        with kanal.db.read() as session:
            row = session.exec(select(OutboxItem).where(OutboxItem.idempotency_key == key)).one()
            message = session.get(Message, row.message_id)
            return message.platform_message_id if message else None

    return await until(recorded)


async def test_the_reporter_rates_a_fixed_report(kanal: Kanal, fake: FakeWhatsAppCloud) -> None:
    number = await resolved_report(kanal, fake)
    assert fake.sent[2]["interactive"] == CHECKBACK_QUESTION
    # The buttons are offered; the figure in words is still read.
    await kanal.send(text="Sudah 5, terima kasih")
    texts = await sent_count(fake, 4)
    assert texts[3] == "Terima kasih atas jawaban Anda untuk laporan LBP-2026-00001."
    ticket = kanal.ticket(number)
    assert ticket.status == "resolved"
    assert (ticket.flags["checkback_fixed"], ticket.flags["checkback_rating"]) == (True, 5)
    last = kanal.events(number)[-1]
    assert (last.action, last.data) == ("checkback", {"fixed": True, "rating": 5})


async def test_belum_sends_the_ticket_back_to_the_same_opd_with_the_reporters_words(
    kanal: Kanal, fake: FakeWhatsAppCloud, clock: FixedClock
) -> None:
    number = await forwarded_report(kanal, fake)
    kanal.runtime.actions.apply(number, Resolve(message="Sudah diganti."), actor="pupr1")
    await sent_count(fake, 4)
    clock.advance(timedelta(hours=3))
    await kanal.send(text="Belum, lampunya masih mati 2")

    texts = await sent_count(fake, 5)
    assert texts[4] == (
        "Terima kasih. Laporan LBP-2026-00001 kami buka kembali dan kami teruskan lagi ke Dinas"
        " Pekerjaan Umum dan Penataan Ruang beserta keterangan Anda."
    )
    ticket = kanal.ticket(number)
    assert (ticket.status, ticket.opd, ticket.resolution, ticket.closed_at) == (
        "forwarded",
        "PUPR",
        None,
        None,
    )
    assert ticket.opd_due_at is not None and ticket.opd_due_at > clock()
    assert (ticket.flags["checkback_fixed"], ticket.flags["checkback_rating"]) == (False, 2)
    last = kanal.events(number)[-1]
    assert (last.action, last.from_state, last.to_state) == ("not_fixed", "resolved", "forwarded")
    assert last.data["words"] == "Belum, lampunya masih mati 2"

    # The figure E-Sambat and LAPOR! publish, in /api/stats.
    with kanal.db.write() as session:
        add_user(session, "kepala", "rahasia-sekali", "supervisor", now=clock())
        token = create_token(session, "kepala", now=clock())
    stats_url = kanal.url.replace("/webhooks/whatsapp", "/api/stats")
    headers = {"Authorization": f"Bearer {token}"}
    async with kanal.http.get(stats_url, headers=headers) as response:
        assert response.status == 200
        figures = await response.json()
    outcome = {"resolved": 1, "reopened": 1, "reopened_share": 1.0, "rated": 1, "mean_rating": 2.0}
    assert figures["satisfaction"] == {
        "by_opd": {"PUPR": outcome},
        "by_category": {"jalan": outcome},
    }
