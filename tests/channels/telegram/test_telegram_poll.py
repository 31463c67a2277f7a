"""The Telegram bot in polling mode (python-telegram-bot against the local fake Bot API) through
the real intake, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from channels.base import IntakeUnavailable
from channels.telegram.channel import TelegramChannel, TelegramConfig
from channels.telegram.parse import TEXTS
from conftest import FixedClock
from fake_telegram_api import FakeTelegramBotApi
from fake_telegram_updates import TelegramUpdates
from store.db import Database
from store.models import (
    Attachment,
    Message,
    OutboxItem,
    PollCursor,
    RawEvent,
    Reporter,
    Ticket,
)
from support.health import HealthLog
from support.waiting import until as wait_for
from triage.intake import Intake
from triage.outbox import OutboxWorker

FIXTURES = Path(__file__).resolve().parent / "fixtures"
TOKEN = "123456:TEST-token"
BOT = "123456"
SITI = "5550001"
PHOTO = b"\xff\xd8\xff\xe0" + b"lubang jalan" * 100
PDF = b"%PDF-1.4\n" + b"surat pengantar RT" * 50


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text())


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegramBotApi]:
    server = await FakeTelegramBotApi(token=TOKEN).start()
    yield server
    await server.stop()


@pytest.fixture
def updates(fake: FakeTelegramBotApi) -> TelegramUpdates:
    return TelegramUpdates(fake)


@pytest.fixture
async def make_channel(
    fake: FakeTelegramBotApi, tmp_path: Path, clock: FixedClock
) -> AsyncIterator[Callable[..., TelegramChannel]]:
    made: list[TelegramChannel] = []

    def make(**overrides: Any) -> TelegramChannel:
        values: dict[str, Any] = {
            "enabled": True, "bot_token": TOKEN, "api_base": f"http://127.0.0.1:{fake.port}",
            "poll_interval": "20ms", "long_poll": "1s", "request_timeout": "5s",
        }
        channel = TelegramChannel(TelegramConfig(**(values | overrides)), tmp_path, clock)
        made.append(channel)
        return channel

    yield make
    for channel in made:
        await channel.stop()


def offset(db: Database) -> str | None:
    with db.read() as session:
        row = session.get(PollCursor, ("telegram", BOT, "updates"))
        return row.value if row else None


def inbound(db: Database) -> dict[str, Message]:
    with db.read() as session:
        rows = session.exec(select(Message).order_by(col(Message.id))).all()
        return {m.external_id: m for m in rows}


def fetched(db: Database, count: int) -> bool:
    with db.read() as session:
        states = session.exec(select(Attachment.fetch_state)).all()
    return len(states) == count and "pending" not in states


def with_files(updates: TelegramUpdates) -> tuple[dict[str, Any], dict[str, Any]]:
    """The photo and document fixtures, their largest photo and document held by the fake."""
    photo = fixture("message__photo_sizes")
    large, unique = updates.add_file(PHOTO, "photos/file_7.jpg")
    photo["message"]["photo"][-1].update(file_id=large, file_unique_id=unique, file_size=len(PHOTO))
    document = fixture("message__document_pdf")
    doc_id, doc_unique = updates.add_file(PDF, "documents/file_8.pdf")
    document["message"]["document"].update(
        file_id=doc_id, file_unique_id=doc_unique, file_size=len(PDF)
    )
    return photo, document


async def test_reports_polled_into_one_ticket_with_files_and_a_greeting(
    db: Database, intake: Intake, fake: FakeTelegramBotApi, updates: TelegramUpdates,
    make_channel: Callable[..., TelegramChannel], tmp_path: Path, clock: FixedClock,
) -> None:
    photo, document = with_files(updates)
    pushed = [
        updates.push(fixture("command__start")),
        updates.push(fixture("message__text")),
        updates.push(photo),
        updates.push(document),
        updates.push(fixture("message__location")),
        updates.push(fixture("message__contact_own")),
    ]
    channel = make_channel()
    await channel.start(intake)
    await wait_for(lambda: offset(db) == str(pushed[-1]["update_id"] + 1))
    await wait_for(lambda: fetched(db, 2))  # files come in the background, after the commit

    rows = inbound(db)
    assert list(rows) == [f"{SITI}:{n}" for n in (11, 12, 13, 14, 16)]
    text, photo_row, doc_row, place, card = rows.values()
    assert {r.ticket_id for r in rows.values()} == {text.ticket_id}
    for row in rows.values():
        assert (row.channel, row.account, row.sender_id, row.direction) == (
            "telegram", BOT, SITI, "in"
        )
    assert text.text == "Jalan di Desa Kayen berlubang besar, mohon segera diperbaiki."
    assert text.sent_at == datetime.fromtimestamp(1795395600 + 11, UTC)
    assert photo_row.text == "Lubangnya di depan SD Negeri 2"
    assert (place.latitude, place.longitude) == (-6.756345, 111.038712)
    assert card.text == "Kontak: Siti Aminah, 6281234567890"
    with db.read() as session:
        ticket = session.get(Ticket, text.ticket_id)
        reporter = session.get(Reporter, ticket.reporter_id)
        files = {a.message_id: a for a in session.exec(select(Attachment)).all()}
        start = session.exec(select(RawEvent).where(RawEvent.kind == "command:start")).one()
    assert (ticket.channel, ticket.account, ticket.message_count) == ("telegram", BOT, 5)
    assert (reporter.sender_id, reporter.display_name) == (SITI, "Siti Aminah")
    assert reporter.contact == "+6281234567890"  # the phone she shared replaced her @handle
    assert start.external_id == f"update:{pushed[0]['update_id']}"

    for row, data, name in ((photo_row, PHOTO, ".jpg"), (doc_row, PDF, ".pdf")):
        stored = files[row.id]
        digest = hashlib.sha256(data).hexdigest()
        assert (stored.fetch_state, stored.sha256, stored.size) == ("stored", digest, len(data))
        assert stored.stored_path == f"media/telegram/{digest[:2]}/{digest}{name}"
        assert (tmp_path / stored.stored_path).read_bytes() == data
    # Only the largest of the photo's sizes was fetched.
    assert [c.params["file_id"] for c in fake.calls_of("getFile")].count(
        photo["message"]["photo"][-1]["file_id"]
    ) == 1
    assert len(fake.calls_of("getFile")) == 2

    # /start answered in Indonesian, in the reporter's chat, through the outbox, and opened no
    # ticket of its own.
    assert fake.calls_of("sendMessage") == []  # queued with the update, not sent by the poller
    assert await OutboxWorker(db, {"telegram": channel}, clock).run_once() == 1
    greeting = next(c for c in fake.calls_of("sendMessage"))
    assert (greeting.params["chat_id"], greeting.params["text"]) == (SITI, TEXTS["start"]["id"])
    assert fake.calls[0].method == "getMe"
    assert fake.calls_of("deleteWebhook")
    first_poll = fake.calls_of("getUpdates")[0]
    assert json.loads(first_poll.params["allowed_updates"]) == ["message", "edited_message"]
    assert "offset" not in first_poll.params  # nothing committed yet


async def test_a_restart_resumes_from_the_committed_offset(
    db: Database, intake: Intake, fake: FakeTelegramBotApi, updates: TelegramUpdates,
    make_channel: Callable[..., TelegramChannel],
) -> None:
    first = updates.push(fixture("message__text"))
    channel = make_channel()
    await channel.start(intake)
    await wait_for(lambda: offset(db) == str(first["update_id"] + 1))
    await channel.stop()
    polls_before = len(fake.calls_of("getUpdates"))

    edit = updates.push(fixture("edited_message__text"))
    reply = updates.push(fixture("message__reply_to_bot"))
    restarted = make_channel()
    await restarted.start(intake)
    await wait_for(lambda: offset(db) == str(reply["update_id"] + 1))

    resumed = fake.calls_of("getUpdates")[polls_before]
    assert resumed.params["offset"] == str(first["update_id"] + 1)
    rows = inbound(db)
    assert list(rows) == [f"{SITI}:11", f"{SITI}:19"]  # the first report is not stored twice
    assert rows[f"{SITI}:11"].edited_text == (
        "Jalan di Desa Kayen berlubang besar (RT 03), mohon segera diperbaiki."
    )
    assert rows[f"{SITI}:19"].reply_to == f"{SITI}:7"
    assert rows[f"{SITI}:19"].ticket_id == rows[f"{SITI}:11"].ticket_id
    # The next getUpdates confirms the committed offset, and Telegram forgets those updates.
    assert edit in updates.queue or not updates.queue
    await wait_for(lambda: not updates.queue)


async def test_group_chats_and_other_updates_are_kept_without_tickets(
    db: Database, intake: Intake, updates: TelegramUpdates,
    make_channel: Callable[..., TelegramChannel],
) -> None:
    group = updates.push(fixture("message__group_chat"))
    member = updates.push(fixture("my_chat_member__blocked"))
    channel = make_channel()
    await channel.start(intake)
    await wait_for(lambda: offset(db) == str(group["update_id"] + 1))

    with db.read() as session:
        raw = session.exec(select(RawEvent)).all()
        tickets = session.exec(select(Ticket)).all()
    assert tickets == []
    assert [(r.external_id, r.kind) for r in raw] == [
        (f"update:{group['update_id']}", "chat:supergroup")
    ]
    # allowed_updates asked Telegram to leave my_chat_member out; the fake honours that.
    assert member in updates.queue


async def test_polling_failures_are_reported_once_and_recovery_too(
    db: Database, intake: Intake, fake: FakeTelegramBotApi, updates: TelegramUpdates,
    make_channel: Callable[..., TelegramChannel],
) -> None:
    from fake_telegram_api import server_error

    fake.fail_next("getUpdates", server_error(), times=3)
    text = updates.push(fixture("message__text"))
    channel = make_channel(poll_interval="10ms")
    channel.health = HealthLog()
    await channel.start(intake)
    await wait_for(lambda: offset(db) == str(text["update_id"] + 1))
    await wait_for(lambda: channel.polling.completed_polls > 0)  # noted after the commit
    # Every outcome is reported (channels.base.ChannelHealth): each failed poll, then each good
    # one; the notifier turns them into one alert per change.
    failed = ("failing", "telegram", BOT, "NetworkError: Bad Gateway")
    assert channel.health.calls[:3] == [failed] * 3
    assert channel.health.calls[3:] and set(channel.health.calls[3:]) == {
        ("working", "telegram", BOT)
    }
    assert channel.polling.failing is False


async def test_a_file_telegram_no_longer_has_is_recorded_as_failed(
    db: Database, intake: Intake, updates: TelegramUpdates,
    make_channel: Callable[..., TelegramChannel],
) -> None:
    voice = updates.push(fixture("message__voice"))  # its file_id is unknown to the fake
    channel = make_channel()
    await channel.start(intake)
    await wait_for(lambda: offset(db) == str(voice["update_id"] + 1))
    await wait_for(lambda: fetched(db, 1))
    with db.read() as session:
        attachment = session.exec(select(Attachment)).one()
    assert (attachment.kind, attachment.media_ref) == ("voice", "AwACAgUAAxkBAAIBVoice")
    assert (attachment.fetch_state, attachment.stored_path) == ("failed", None)
    assert attachment.fetch_error == "BadRequest: Invalid file_id"  # as PTB words it


async def test_polling_takes_over_from_a_webhook_left_set(
    db: Database, intake: Intake, fake: FakeTelegramBotApi, updates: TelegramUpdates,
    make_channel: Callable[..., TelegramChannel],
) -> None:
    updates.webhook_url = "https://127.0.0.1:9/webhooks/telegram"  # a server gone; getUpdates: 409
    report = updates.push(fixture("message__text"))
    await updates.delivered()  # the old server is gone: the update stays queued
    channel = make_channel()
    await channel.start(intake)
    await wait_for(lambda: offset(db) == str(report["update_id"] + 1))
    assert updates.webhook_url == ""
    (deleted,) = fake.calls_of("deleteWebhook")
    assert deleted.params.get("drop_pending_updates") in (None, "false", "False")
    assert list(inbound(db)) == [f"{SITI}:11"]


class DatabaseDownUntilRepaired:
    """The real intake behind a database that refuses every commit until `repair()`."""

    def __init__(self, intake: Intake) -> None:
        self.intake, self.down, self.refused = intake, True, 0

    def repair(self) -> None:
        self.down = False

    async def submit(self, items: Any, cursor: Any = None) -> Any:
        if self.down:
            self.refused += 1
            raise IntakeUnavailable("database is down")
        return await self.intake.submit(items, cursor)

    async def read_cursor(self, channel: str, account: str, name: str) -> str | None:
        return await self.intake.read_cursor(channel, account, name)

    async def record_media(self, result: Any) -> None:
        await self.intake.record_media(result)


async def test_a_database_outage_delays_but_loses_no_update(
    db: Database, intake: Intake, fake: FakeTelegramBotApi, updates: TelegramUpdates,
    make_channel: Callable[..., TelegramChannel],
) -> None:
    report = updates.push(fixture("message__text"))
    sink = DatabaseDownUntilRepaired(intake)
    channel = make_channel(poll_interval="10ms")
    await channel.start(sink)
    await wait_for(lambda: sink.refused >= 3)
    # Not confirmed to Telegram: every poll asked again from the start.
    assert {c.params.get("offset") for c in fake.calls_of("getUpdates")} == {None}
    assert report in updates.queue
    sink.repair()
    await wait_for(lambda: offset(db) == str(report["update_id"] + 1))
    assert list(inbound(db)) == [f"{SITI}:11"]
    assert channel.polling.last_error == "IntakeUnavailable: database is down"


async def test_a_flood_wait_on_getupdates_is_waited_out(
    db: Database, intake: Intake, fake: FakeTelegramBotApi, updates: TelegramUpdates,
    make_channel: Callable[..., TelegramChannel],
) -> None:
    from fake_telegram_api import too_many_requests

    fake.fail_next("getUpdates", too_many_requests(1))
    report = updates.push(fixture("message__text"))
    channel = make_channel(poll_interval="10ms")
    loop = asyncio.get_running_loop()
    started = loop.time()
    await channel.start(intake)
    await wait_for(lambda: offset(db) == str(report["update_id"] + 1))
    assert loop.time() - started >= 0.85  # retry_after (1s, less the jitter), not 10ms
    assert channel.polling.last_error == "RetryAfter: Flood control exceeded. Retry in 1 seconds"


def _text_update(message_id: int, text: str) -> dict[str, Any]:
    update = fixture("message__text")
    update["message"] = dict(update["message"], message_id=message_id, text=text)
    return update


# A NUL is refused by PostgreSQL's text (the intake called that "unavailable"); a lone surrogate
# cannot be encoded at all. Either one used to be fetched again from the same offset forever.
POISONS = {"nul": "Jalan\x00rusak", "lone_surrogate": "Jalan \ud800 rusak"}


@pytest.mark.parametrize("poison", sorted(POISONS))
async def test_an_unstorable_update_never_holds_back_the_ones_after_it(
    db: Database, intake: Intake, updates: TelegramUpdates,
    make_channel: Callable[..., TelegramChannel], poison: str,
) -> None:
    updates.push(_text_update(11, "Jalan di Desa Kayen berlubang."))
    updates.push(_text_update(12, POISONS[poison]))
    updates.push(_text_update(13, "Lampu jalan mati sejak kemarin."))
    last = updates.push(_text_update(14, "Sampah menumpuk di pasar."))
    channel = make_channel(poll_interval="10ms", retry_max="50ms")
    await channel.start(intake)
    await wait_for(lambda: offset(db) == str(last["update_id"] + 1))

    rows = inbound(db)
    good = [f"{SITI}:{n}" for n in (11, 13, 14)]
    assert [rows[key].text for key in good] == [
        "Jalan di Desa Kayen berlubang.", "Lampu jalan mati sejak kemarin.",
        "Sampah menumpuk di pasar.",
    ]
    assert len({rows[key].ticket_id for key in good}) == 1
    with db.read() as session:
        kept = session.exec(select(RawEvent).where(RawEvent.external_id == f"{SITI}:12")).one()
    if kept.kind == "unstorable":  # kept as unreadable: the reason and the update, escaped
        assert kept.error.startswith("not storable: ")
        assert json.loads(kept.payload["payload"])["message"]["text"] == POISONS[poison]
        assert f"{SITI}:12" not in rows
    else:  # an intake that makes such text storable keeps it as a message
        assert kept.kind == "message" and f"{SITI}:12" in rows
    await wait_for(lambda: not updates.queue)  # confirmed to Telegram: nothing asked again


class RefusingSink:
    """The real intake, except that it refuses every batch holding `refused` in any form."""

    def __init__(self, intake: Intake, refused: str) -> None:
        self.intake, self.refused, self.attempts = intake, refused, 0

    async def submit(self, items: Any, cursor: Any = None) -> Any:
        ids = {getattr(item, "external_id", None) for item in items}
        ids |= {i.raw.get("external_id") for i in items if getattr(i, "kind", "") == "unstorable"}
        if self.refused in ids:
            self.attempts += 1
            raise ValueError(f"cannot store {self.refused}")
        return await self.intake.submit(items, cursor)

    async def read_cursor(self, channel: str, account: str, name: str) -> str | None:
        return await self.intake.read_cursor(channel, account, name)

    async def record_media(self, result: Any) -> None:
        await self.intake.record_media(result)


async def test_an_update_that_cannot_even_be_kept_is_skipped_after_three_attempts(
    db: Database, intake: Intake, fake: FakeTelegramBotApi, updates: TelegramUpdates,
    make_channel: Callable[..., TelegramChannel], caplog: pytest.LogCaptureFixture,
) -> None:
    updates.push(_text_update(11, "Jalan di Desa Kayen berlubang."))
    updates.push(_text_update(12, "tidak tersimpan"))
    last = updates.push(_text_update(13, "Lampu jalan mati sejak kemarin."))
    sink = RefusingSink(intake, f"{SITI}:12")
    channel = make_channel(poll_interval="10ms", retry_max="50ms")
    await channel.start(sink)
    await wait_for(lambda: offset(db) == str(last["update_id"] + 1))

    assert list(inbound(db)) == [f"{SITI}:11", f"{SITI}:13"]
    with db.read() as session:
        assert session.exec(select(RawEvent).where(RawEvent.kind == "unstorable")).all() == []
    # Three polls, each: the batch, the update alone, the update as unreadable.
    assert sink.attempts == 9
    offsets = [c.params.get("offset") for c in fake.calls_of("getUpdates")]
    assert offsets.count(None) == 3  # asked again until skipped, then never again
    skipped = [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()]
    assert skipped == [
        f"telegram {BOT}: item {SITI}:12 skipped after 3 attempts, not stored: "
        f"not storable: ValueError: cannot store {SITI}:12"
    ]


@pytest.mark.parametrize("where", ["absolute", "climbing"])
async def test_a_file_path_pointing_at_our_own_disk_is_never_read(
    db: Database, intake: Intake, updates: TelegramUpdates,
    make_channel: Callable[..., TelegramChannel], tmp_path: Path, where: str,
) -> None:
    secret = tmp_path / "secret" / "config.toml"
    secret.parent.mkdir()
    secret.write_bytes(b"bot_token = 'jangan-dibaca'")
    # A careless (or hostile) Bot API answers getFile with a path PTB would open locally.
    climb = "../" * (len(Path(os.getcwd()).parts) - 1)  # from the working directory to /
    path = str(secret) if where == "absolute" else climb + str(secret).lstrip("/")
    photo = fixture("message__photo_sizes")
    file_id, unique = updates.add_file(b"\xff\xd8 not the bytes we want", path)
    photo["message"]["photo"][-1].update(file_id=file_id, file_unique_id=unique, file_size=26)
    pushed = updates.push(photo)
    channel = make_channel()
    await channel.start(intake)
    await wait_for(lambda: offset(db) == str(pushed["update_id"] + 1))
    await wait_for(lambda: fetched(db, 1))

    with db.read() as session:
        attachment = session.exec(select(Attachment)).one()
    assert (attachment.fetch_state, attachment.stored_path) == ("failed", None)
    assert attachment.fetch_error == f"unsafe file_path from getFile, not downloaded: {path!r}"
    media = tmp_path / "media"
    stored = [p.read_bytes() for p in media.rglob("*") if p.is_file()] if media.exists() else []
    assert stored == []


async def test_a_greeting_telegram_refused_is_sent_again_by_the_outbox(
    db: Database, intake: Intake, fake: FakeTelegramBotApi, updates: TelegramUpdates,
    make_channel: Callable[..., TelegramChannel], clock: FixedClock,
) -> None:
    from fake_telegram_api import server_error

    fake.fail_next("sendMessage", server_error())  # as good as a crash right after the commit
    start = updates.push(fixture("command__start"))
    channel = make_channel()
    await channel.start(intake)
    await wait_for(lambda: offset(db) == str(start["update_id"] + 1))
    worker = OutboxWorker(db, {"telegram": channel}, clock)
    assert await worker.run_once() == 1  # refused: tried again later
    clock.advance(timedelta(minutes=1))
    assert await worker.run_once() == 1
    assert await worker.run_once() == 0

    assert [(m["chat"]["id"], m["text"]) for m in fake.sent] == [
        (int(SITI), TEXTS["start"]["id"])
    ]
    with db.read() as session:
        (row,) = session.exec(select(OutboxItem)).all()
    assert (row.message_id, row.state, row.attempts) == (None, "sent", 2)
    assert row.payload["event"] == f"update:{start['update_id']}"


async def test_an_update_python_telegram_bot_cannot_read_is_kept_and_polling_goes_on(
    db: Database, intake: Intake, updates: TelegramUpdates,
    make_channel: Callable[..., TelegramChannel],
) -> None:
    odd = _text_update(12, "tanggalnya aneh")
    odd["message"]["date"] = "kemarin"  # PTB's Message.de_json raises on it
    updates.push(_text_update(11, "Jalan di Desa Kayen berlubang."))
    updates.push(odd)
    last = updates.push(_text_update(13, "Lampu jalan mati sejak kemarin."))
    channel = make_channel(poll_interval="10ms", retry_max="50ms")
    await channel.start(intake)
    await wait_for(lambda: offset(db) == str(last["update_id"] + 1))

    rows = inbound(db)
    assert [rows[f"{SITI}:{n}"].text for n in (11, 13)] == [
        "Jalan di Desa Kayen berlubang.", "Lampu jalan mati sejak kemarin."
    ]
    with db.read() as session:
        kept = session.exec(select(RawEvent).where(RawEvent.external_id == f"{SITI}:12")).one()
    assert kept.payload["message"]["date"] == "kemarin"  # as Telegram sent it
