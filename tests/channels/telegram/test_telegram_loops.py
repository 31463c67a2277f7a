"""Issue 18 once on Telegram, through the webhook, the outbox and the fake Bot API: the
acknowledgement with the number, status on request, and a follow-up that reopens."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from test_telegram_webhook import SITI, TOKEN, Kanal, fixture, running_kanal, tickets

from conftest import FixedClock
from fake_telegram_api import FakeTelegramBotApi
from fake_telegram_updates import TelegramUpdates
from store.db import Database
from support.waiting import until
from triage.action_requests import Resolve

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
