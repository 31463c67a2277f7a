"""Issue 18 once on Telegram, through the webhook, the outbox and the fake Bot API: the
acknowledgement with the number, status on request, and a follow-up that reopens."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from test_telegram_webhook import SITI, TOKEN, Kanal, fixture, running_kanal, tickets

from conftest import FixedClock
from fake_telegram_api import FakeTelegramBotApi
from fake_telegram_updates import TelegramUpdates
from inbox_site import png
from store.db import Database
from store.users import add_user, create_token
from support.waiting import until
from triage.action_requests import Resolve, Verify

_message_ids = iter(range(100, 1000))


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegramBotApi]:
    server = await FakeTelegramBotApi(token=TOKEN).start()
    yield server
    await server.stop()


@pytest.fixture
def updates(fake: FakeTelegramBotApi) -> TelegramUpdates:
    return TelegramUpdates(fake)


@pytest.fixture
async def kanal(
    db: Database,
    tmp_path: Path,
    clock: FixedClock,
    fake: FakeTelegramBotApi,
    updates: TelegramUpdates,
) -> AsyncIterator[Kanal]:
    async with running_kanal(db, tmp_path, clock, fake, updates, acknowledge=True) as kanal:
        yield kanal


async def write(updates: TelegramUpdates, clock: FixedClock, text: str) -> None:
    """Siti writes `text` to the bot, a minute before now."""
    update = copy.deepcopy(fixture("message__text"))
    update["message"] |= {
        "message_id": next(_message_ids),
        "text": text,
        "date": int(clock().timestamp()) - 60,
    }
    updates.push(update)
    await updates.delivered()


async def texts_sent(fake: FakeTelegramBotApi, count: int) -> list[str]:
    await until(lambda: len(fake.calls_of("sendMessage")) >= count or None)
    return [c.params["text"] for c in fake.calls_of("sendMessage")]


async def test_acknowledgement_status_and_follow_up_on_telegram(
    kanal: Kanal, fake: FakeTelegramBotApi, updates: TelegramUpdates, clock: FixedClock
) -> None:
    await until(lambda: updates.webhook_url)
    await write(updates, clock, "Jalan di Desa Kayen berlubang besar, mohon segera diperbaiki.")
    [ack] = await texts_sent(fake, 1)
    assert ack.startswith(
        "Terima kasih, laporan Anda sudah kami terima dengan nomor LBP-2026-00001."
    )
    assert fake.calls_of("sendMessage")[0].params["chat_id"] == SITI

    await write(updates, clock, "cek")
    status = (await texts_sent(fake, 2))[1]
    assert status.startswith("Laporan LBP-2026-00001 sedang diperiksa oleh petugas kami.")

    kanal.runtime.actions.apply("LBP-2026-00001", Resolve(message="Sudah ditambal."), "op1")
    await texts_sent(fake, 4)  # the resolve and the check-back question
    clock.advance(timedelta(hours=2))
    await write(updates, clock, "Tambalannya sudah lepas lagi")
    reopened = (await texts_sent(fake, 5))[4]
    assert reopened.startswith("Laporan LBP-2026-00001 kami buka kembali")
    [ticket] = tickets(kanal.db)
    assert (ticket.status, ticket.message_count) == ("new", 8)  # 3 in, 5 out


PHOTO = png(200, 120)
ANSWER = "Jalan di Desa Kayen sudah ditambal pada 24 November 2026."


@pytest.fixture
async def answering_kanal(
    db: Database,
    tmp_path: Path,
    clock: FixedClock,
    fake: FakeTelegramBotApi,
    updates: TelegramUpdates,
) -> AsyncIterator[Kanal]:
    """Kanal with an OPD to forward to, whose answers go out at once."""
    async with running_kanal(
        db,
        tmp_path,
        clock,
        fake,
        updates,
        acknowledge=False,
        opd=[{"code": "PUPR", "name": "Dinas Pekerjaan Umum dan Penataan Ruang"}],
        category=[{"code": "jalan", "name": "Jalan rusak", "opd": "PUPR", "keywords": ["jalan"]}],
        triage={"opd_answers": "direct"},
    ) as kanal:
        yield kanal


async def test_an_opd_answer_by_api_sends_its_photo_on_telegram(
    answering_kanal: Kanal, fake: FakeTelegramBotApi, updates: TelegramUpdates, clock: FixedClock
) -> None:
    kanal = answering_kanal
    await until(lambda: updates.webhook_url)
    await write(updates, clock, "Jalan di Desa Kayen berlubang besar, mohon segera diperbaiki.")
    await until(lambda: tickets(kanal.db) or None)
    number = "LBP-2026-00001"
    kanal.runtime.actions.apply(number, Verify(category="jalan", forward=True), "op1")
    await texts_sent(fake, 1)  # the forwarding
    with kanal.db.write() as session:
        add_user(session, "pupr1", "rahasia-sekali", "opd", opd="PUPR", now=clock())
        token = create_token(session, "pupr1", now=clock())

    form = aiohttp.FormData()
    form.add_field("body", json.dumps({"action": "answer", "message": ANSWER}))
    form.add_field("files", PHOTO, filename="tambalan.png", content_type="image/png")
    api = kanal.url.replace("/webhooks/telegram", f"/api/tickets/{number}/actions")
    async with kanal.http.post(
        api, data=form, headers={"Authorization": f"Bearer {token}"}
    ) as response:
        assert response.status == 200, await response.text()
        detail = await response.json()
    assert detail["status"] == "answered"

    await until(lambda: fake.calls_of("sendPhoto") or None)
    [photo] = fake.calls_of("sendPhoto")
    assert photo.params["chat_id"] == SITI
    upload = photo.files["photo"]
    assert (upload.filename, upload.data) == ("tambalan.png", PHOTO)
    assert (await texts_sent(fake, 2))[1] == ANSWER
    sent = await until(lambda: kanal.outbound()[-1].delivery_state == "sent" or None)
    assert sent and kanal.outbound()[-1].text == ANSWER
