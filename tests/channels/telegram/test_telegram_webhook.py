"""The Telegram bot in webhook mode through Kanal's own wiring (runtime.py, as `kanal serve`):
updates POSTed by the fake Bot API, replies out by the outbox, errors shown on the message."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest
from aiohttp.test_utils import unused_port
from sqlmodel import col, select

from channels.base import OutboundMessage, PlatformError
from channels.telegram.channel import TelegramChannel, TelegramConfig
from channels.telegram.parse import TEXTS
from conftest import FixedClock
from fake_telegram_api import FakeTelegramBotApi, chat_not_found, server_error, too_many_requests
from fake_telegram_updates import SECRET_HEADER, TelegramUpdates
from runtime import Runtime, build_runtime
from settings import parse_settings
from store.db import Database
from store.models import Message, OutboxItem, RawEvent, Ticket
from support.kanal_server import kanal_server
from support.waiting import until
from triage.action_requests import Reply
from triage.intake import Intake

FIXTURES = Path(__file__).resolve().parent / "fixtures"
TOKEN = "123456:TEST-token"
SECRET = "kanal-webhook_secret-1"
SITI = "5550001"
REPLY = "Terima kasih, laporan Anda sedang kami periksa."
T = TypeVar("T")


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text())


@dataclass
class Kanal:
    runtime: Runtime
    db: Database
    url: str
    http: aiohttp.ClientSession

    def outbound(self) -> list[Message]:
        with self.db.read() as session:
            query = select(Message).where(Message.direction == "out").order_by(col(Message.id))
            return list(session.exec(query).all())

    def reply(self, number: str, text: str = REPLY) -> None:
        self.runtime.actions.apply(number, Reply(message=text), "operator1")


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
    # These tests follow operator replies alone: no acknowledgement in between.
    async with running_kanal(db, tmp_path, clock, fake, updates, acknowledge=False) as kanal:
        yield kanal


@asynccontextmanager
async def running_kanal(
    db: Database,
    tmp_path: Path,
    clock: FixedClock,
    fake: FakeTelegramBotApi,
    updates: TelegramUpdates,
    *,
    acknowledge: bool,
    **tables: Any,
) -> AsyncIterator[Kanal]:
    """Kanal as `kanal serve` runs it, with the bot in webhook mode against the fake Bot API;
    `tables` are more of the config's tables (opd, category, triage)."""
    port = unused_port()
    url = f"http://127.0.0.1:{port}/webhooks/telegram"
    document: dict[str, Any] = {
        "data_dir": str(tmp_path / "data"),
        "database": {"url": db.url},
        "channels": {
            "telegram": {
                "enabled": True,
                "acknowledge": acknowledge,
                "bot_token": TOKEN,
                "mode": "webhook",
                "secret_token": SECRET,
                "webhook_url": url,
                "api_base": f"http://127.0.0.1:{fake.port}",
            }
        },
        **tables,
    }
    settings = parse_settings(document, tmp_path / "config.toml")
    runtime = build_runtime(settings, tmp_path, db, clock=clock)
    async with kanal_server(runtime, port), aiohttp.ClientSession() as http:
        yield Kanal(runtime, db, url, http)
        await updates.delivered()


def tickets(db: Database) -> list[Ticket]:
    with db.read() as session:
        return list(session.exec(select(Ticket)).all())


def webhook_channel(fake: FakeTelegramBotApi, tmp_path: Path, clock: FixedClock) -> TelegramChannel:
    config = TelegramConfig(
        enabled=True, bot_token=TOKEN, mode="webhook", secret_token=SECRET,
        webhook_url="http://127.0.0.1:1/webhooks/telegram", retry_max="50ms",
        api_base=f"http://127.0.0.1:{fake.port}",
    )
    return TelegramChannel(config, tmp_path, clock)


async def test_a_failed_set_webhook_is_retried_until_telegram_takes_it(
    fake: FakeTelegramBotApi, updates: TelegramUpdates, tmp_path: Path, clock: FixedClock,
    intake: Intake,
) -> None:
    fake.fail_next("setWebhook", server_error(), times=2)
    channel = webhook_channel(fake, tmp_path, clock)
    await channel.start(intake)
    try:
        await until(lambda: updates.webhook_url)
    finally:
        await channel.stop()
    assert len(fake.calls_of("setWebhook")) == 3
    assert updates.webhook_url == "http://127.0.0.1:1/webhooks/telegram"


async def test_stop_ends_the_set_webhook_retries_at_once(
    fake: FakeTelegramBotApi, tmp_path: Path, clock: FixedClock, intake: Intake
) -> None:
    fake.fail_next("setWebhook", server_error(), times=1000)
    channel = webhook_channel(fake, tmp_path, clock)
    channel.config = channel.config.model_copy(update={"retry_max": timedelta(minutes=5)})
    await channel.start(intake)
    await until(lambda: len(fake.calls_of("setWebhook")) >= 2)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await channel.stop()
    assert loop.time() - started < 1
    calls = len(fake.calls_of("setWebhook"))
    await asyncio.sleep(0.2)
    assert len(fake.calls_of("setWebhook")) == calls  # nothing left retrying


async def test_webhook_set_at_start_and_updates_delivered_with_the_secret(
    kanal: Kanal, fake: FakeTelegramBotApi, updates: TelegramUpdates
) -> None:
    await until(lambda: updates.webhook_url)
    (registered,) = fake.calls_of("setWebhook")
    assert registered.params["url"] == kanal.url
    assert registered.params["secret_token"] == SECRET
    assert json.loads(registered.params["allowed_updates"]) == ["message", "edited_message"]

    start = updates.push(fixture("command__start_english"))
    report = updates.push(fixture("message__text"))
    await updates.delivered()
    # Telegram delivers over several connections at once: in any order.
    assert sorted((d.update_id, d.status) for d in updates.deliveries) == [
        (start["update_id"], 200),
        (report["update_id"], 200),
    ]
    (ticket,) = tickets(kanal.db)
    with kanal.db.read() as session:
        (message,) = session.exec(select(Message)).all()
    assert (ticket.channel, ticket.account, ticket.message_count) == ("telegram", "123456", 1)
    assert (message.external_id, message.sender_id) == (f"{SITI}:11", SITI)
    assert message.text == report["message"]["text"]
    # The English user's /start got the English greeting and no ticket.
    await until(lambda: fake.calls_of("sendMessage"))
    greeting = fake.calls_of("sendMessage")[0]
    assert greeting.params["chat_id"] == "5550002"
    assert greeting.params["text"] == TEXTS["start"]["en"]
    # Delivered again (Telegram repeats when unsure): stored once.
    response = await kanal.http.post(kanal.url, json=report, headers={SECRET_HEADER: SECRET})
    assert response.status == 200
    with kanal.db.read() as session:
        assert len(session.exec(select(Message)).all()) == 1


@pytest.mark.parametrize("header", [None, "wrong-secret", SECRET + "x", ""])
async def test_a_wrong_secret_token_is_refused_and_nothing_stored(
    kanal: Kanal, header: str | None
) -> None:
    headers = {} if header is None else {SECRET_HEADER: header}
    response = await kanal.http.post(kanal.url, json=fixture("message__text"), headers=headers)
    assert (response.status, await response.text()) == (401, "bad secret token")
    with kanal.db.read() as session:
        assert session.exec(select(RawEvent)).all() == []
        assert session.exec(select(Message)).all() == []
    assert tickets(kanal.db) == []


async def test_an_unreadable_body_is_kept_and_an_oversized_one_refused(kanal: Kanal) -> None:
    headers = {SECRET_HEADER: SECRET, "Content-Type": "application/json"}
    response = await kanal.http.post(kanal.url, data=b"{not json", headers=headers)
    assert response.status == 200
    with kanal.db.read() as session:
        (raw,) = session.exec(select(RawEvent)).all()
    assert (raw.kind, raw.payload) == ("update", {"payload": "{not json"})
    assert raw.error == "update without an update_id"
    big = json.dumps({"update_id": 1, "message": {"text": "x" * 1_100_000}})
    response = await kanal.http.post(kanal.url, data=big, headers=headers)
    assert response.status == 413
    with kanal.db.read() as session:
        assert len(session.exec(select(RawEvent)).all()) == 1


async def test_replies_go_out_by_the_outbox_and_a_blocked_bot_is_shown_on_the_message(
    kanal: Kanal, fake: FakeTelegramBotApi, updates: TelegramUpdates
) -> None:
    await until(lambda: updates.webhook_url)
    updates.push(fixture("message__text"))
    await updates.delivered()
    (ticket,) = tickets(kanal.db)

    kanal.reply(ticket.number)
    sent = await until(lambda: [m for m in kanal.outbound() if m.platform_message_id])
    (call,) = [c for c in fake.calls_of("sendMessage") if c.params["text"] == REPLY]
    assert call.params["chat_id"] == SITI
    assert json.loads(call.params["reply_parameters"]) == {
        "message_id": 11,
        "allow_sending_without_reply": True,
    }
    assert sent[0].platform_message_id == f"{SITI}:{fake.sent[-1]['message_id']}"
    assert sent[0].delivery_state == "sent"

    # The reporter answers our reply by quoting it: it joins the same ticket.
    quoted = fixture("message__reply_to_bot")
    quoted["message"]["reply_to_message"]["message_id"] = fake.sent[-1]["message_id"]
    updates.push(quoted)
    await updates.delivered()
    with kanal.db.read() as session:
        answer = session.exec(select(Message).where(Message.external_id == f"{SITI}:19")).one()
    assert (answer.ticket_id, answer.reply_to) == (ticket.id, sent[0].platform_message_id)

    fake.blocked_chats.add(SITI)
    kanal.reply(ticket.number, "Mohon kirim foto lokasinya.")
    failed = await until(lambda: [m for m in kanal.outbound() if m.delivery_state == "failed"])
    assert failed[0].error_code == "403"
    assert failed[0].error_message == "Telegram refused: Forbidden: bot was blocked by the user"


@pytest.fixture
async def channel(
    fake: FakeTelegramBotApi, tmp_path: Path, clock: FixedClock
) -> AsyncIterator[TelegramChannel]:
    config = TelegramConfig(
        enabled=True,
        bot_token=TOKEN,
        api_base=f"http://127.0.0.1:{fake.port}",
        request_timeout="5s",
    )
    made = TelegramChannel(config, tmp_path, clock)
    yield made
    await made.stop()


def outbound(text: str = REPLY, chat: str = SITI) -> OutboundMessage:
    return OutboundMessage(
        channel="telegram",
        account="123456",
        recipient_id=chat,
        text=text,
        idempotency_key="k1",
        reply_to=f"{chat}:11",
    )


async def test_send_errors_are_typed(channel: TelegramChannel, fake: FakeTelegramBotApi) -> None:
    cases = [
        (too_many_requests(3), True, "429", 3.0),
        (server_error(), True, None, None),
        (chat_not_found(), False, "400", None),
    ]
    for error, retryable, code, retry_after in cases:
        fake.fail_next("sendMessage", error)
        with pytest.raises(PlatformError) as raised:
            await channel.send(outbound())
        assert (raised.value.retryable, raised.value.code) == (retryable, code)
        assert raised.value.retry_after == retry_after
    with pytest.raises(PlatformError) as too_long:
        await channel.send(outbound("x" * 4097))
    assert (too_long.value.retryable, too_long.value.code) == (False, "too_long")
    result = await channel.send(outbound("Balasan dari petugas"))
    assert result.platform_message_id == f"{SITI}:{fake.sent[-1]['message_id']}"


def test_config_names_the_key_that_is_wrong(clock: FixedClock) -> None:
    from pydantic import ValidationError

    cases = [
        ({"enabled": True}, "bot_token: required when enabled"),
        (
            {"enabled": True, "bot_token": TOKEN, "mode": "webhook", "secret_token": "a b"},
            "secret_token: webhook mode needs 1-256 characters",
        ),
        ({"enabled": True, "bot_token": TOKEN, "mode": "webhook"}, "secret_token"),
    ]
    for values, words in cases:
        with pytest.raises(ValidationError) as error:
            TelegramConfig(**values)
        assert words in str(error.value)
    assert TelegramConfig(enabled=True, bot_token=TOKEN).mode == "polling"
    channel = TelegramChannel(TelegramConfig(bot_token=TOKEN), Path("."), clock)
    assert (channel.account, channel.routes()) == ("123456", [])  # polling: no webhook route


async def test_a_start_delivered_twice_is_greeted_once(
    kanal: Kanal, fake: FakeTelegramBotApi, updates: TelegramUpdates
) -> None:
    await until(lambda: updates.webhook_url)
    start = updates.push(fixture("command__start_english"))
    await updates.delivered()
    # Telegram was not sure it got through and sends the same update again.
    response = await kanal.http.post(kanal.url, json=start, headers={SECRET_HEADER: SECRET})
    assert response.status == 200

    def sent() -> list[OutboxItem]:
        with kanal.db.read() as session:
            return [r for r in session.exec(select(OutboxItem)).all() if r.state == "sent"]

    (row,) = await until(sent)
    await kanal.runtime.outbox.run_once()  # nothing else is due
    english = TEXTS["start"]["en"]
    greetings = [c for c in fake.calls_of("sendMessage") if c.params["text"] == english]
    assert [c.params["chat_id"] for c in greetings] == ["5550002"]
    assert row.payload["event"] == f"update:{start['update_id']}"
    with kanal.db.read() as session:
        assert len(session.exec(select(OutboxItem)).all()) == 1
