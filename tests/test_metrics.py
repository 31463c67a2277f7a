"""`GET /metrics` through the real app: a WhatsApp report in by webhook and a reply out by the
outbox move the figures Prometheus reads; without the token or from elsewhere, nothing is shown."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from prometheus_client.parser import text_string_to_metric_families
from sqlmodel import select

from conftest import FixedClock
from fake_telegram_api import FakeTelegramBotApi, server_error
from fake_telegram_updates import TelegramUpdates
from fake_whatsapp_cloud import FakeWhatsAppCloud
from fake_whatsapp_webhooks import FIXTURES, OUR_ACCOUNT, post_webhook
from runtime import Runtime, build_runtime
from settings import ConfigError, parse_settings
from store.db import Database
from store.models import Message, Ticket
from support.kanal_server import kanal_server
from support.paths import fixtures_of
from support.waiting import until
from triage.action_requests import Reply

APP_SECRET = "metrics-app-secret"
TOKEN = "scrape-token-0123456789abcdef"
REPORT = json.loads((FIXTURES / "text__indonesian_unicode.json").read_text(encoding="utf-8"))
WEBHOOK = "/webhooks/whatsapp"
TELEGRAM_FIXTURES = fixtures_of("telegram")
PROXY = {"trusted_proxies": ["127.0.0.1"]}
T = TypeVar("T")

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@dataclass
class Kanal:
    runtime: Runtime
    server: TestServer
    http: aiohttp.ClientSession

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))

    async def scrape(self, headers: dict[str, str] | None = None) -> tuple[int, str]:
        async with self.http.get(self.url("/metrics"), headers=headers) as response:
            return response.status, await response.text()

    async def samples(self) -> Samples:
        status, text = await self.scrape({"Authorization": f"Bearer {TOKEN}"})
        assert status == 200, text
        return {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def settings_for(db: Database, tmp_path: Path, fake: FakeWhatsAppCloud | None, **extra: Any):
    document: dict[str, Any] = {
        "data_dir": str(tmp_path / "data"),
        "database": {"url": db.url},
        **extra,
    }
    if fake is not None:
        document["channels"] = {
            "whatsapp": {
                "enabled": True,
                "verify_token": "metrics-verify",
                "app_secret": APP_SECRET,
                "access_token": fake.access_token,
                "phone_number_id": OUR_ACCOUNT,
                "api_base": fake.api_base,
                "acknowledge": False,  # one reply per test: the operator's
            }
        }
    return parse_settings(document, tmp_path / "config.toml")


@pytest.fixture
async def fake() -> AsyncIterator[FakeWhatsAppCloud]:
    server = await FakeWhatsAppCloud().start()
    yield server
    await server.stop()


@asynccontextmanager
async def running(runtime: Runtime) -> AsyncIterator[Kanal]:
    async with kanal_server(runtime) as server, aiohttp.ClientSession() as http:
        yield Kanal(runtime, server, http)


@pytest.fixture
async def kanal(
    db: Database, tmp_path: Path, clock: FixedClock, fake: FakeWhatsAppCloud
) -> AsyncIterator[Kanal]:
    settings = settings_for(db, tmp_path, fake, metrics={"enabled": True, "token": TOKEN})
    runtime = build_runtime(settings, tmp_path, db, clock=clock)
    async with running(runtime) as kanal:
        yield kanal


def sent_reply(db: Database) -> Message | None:
    with db.read() as session:
        query = select(Message).where(Message.direction == "out")
        found = session.exec(query).first()
    return found if found is not None and found.platform_message_id else None


async def test_a_report_and_its_reply_move_the_figures(kanal: Kanal, db: Database) -> None:
    before = await kanal.samples()
    assert value(before, "kanal_messages_received_total", channel="whatsapp") == 0
    assert value(before, "kanal_tickets_open", status="new") == 0
    assert value(before, "kanal_database_up") == 1
    assert value(before, "kanal_leader", role="scheduler") == 1  # SQLite or the lock's holder

    assert await post_webhook(kanal.http, kanal.url(WEBHOOK), REPORT, APP_SECRET) == (200, "ok")
    after_report = await kanal.samples()
    assert value(after_report, "kanal_messages_received_total", channel="whatsapp") == 1
    assert value(after_report, "kanal_intake_batch_size_count") == 1
    assert value(after_report, "kanal_intake_batch_size_sum") == 1
    # The fixture was sent an hour before the test's clock: it lands in the 3600 s bucket.
    delay = {"channel": "whatsapp"}
    assert value(after_report, "kanal_intake_delay_seconds_bucket", le="1800.0", **delay) == 0
    assert value(after_report, "kanal_intake_delay_seconds_bucket", le="3600.0", **delay) == 1
    route = {"route": WEBHOOK, "channel": "whatsapp"}
    assert value(after_report, "kanal_webhook_duration_seconds_count", **route) == 1
    assert value(after_report, "kanal_webhook_duration_seconds_sum", **route) > 0
    assert value(after_report, "kanal_webhook_responses_total", status="200", **route) == 1
    assert value(after_report, "kanal_tickets_open", status="new") == 1
    assert value(after_report, "kanal_tickets_open", status="clarifying") == 0

    with db.read() as session:
        number = session.exec(select(Ticket.number)).one()
    kanal.runtime.actions.apply(number, Reply(message="Terima kasih."), actor="operator1")
    await until(lambda: sent_reply(db))
    after_reply = await kanal.samples()
    assert value(after_reply, "kanal_outbox_sent_total", channel="whatsapp") == 1
    assert value(after_reply, "kanal_outbox_failures_total", channel="whatsapp") == 0
    assert value(after_reply, "kanal_outbox_backlog", channel="whatsapp", state="pending") == 0
    assert value(after_reply, "process_resident_memory_bytes") > 0


async def test_a_failed_send_and_the_backlog_show_per_channel(
    db: Database, tmp_path: Path, clock: FixedClock, fake: FakeWhatsAppCloud
) -> None:
    """A report that came to another account is never answered from ours: a final failure."""
    settings = settings_for(db, tmp_path, fake, metrics={"enabled": True, "token": TOKEN})
    runtime = build_runtime(settings, tmp_path, db, clock=clock)
    foreign = json.loads(json.dumps(REPORT))
    foreign["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = "999000999"
    async with running(runtime) as kanal:
        await runtime.outbox.stop()  # the reply waits in the backlog until the worker runs
        posted = await post_webhook(kanal.http, kanal.url(WEBHOOK), foreign, APP_SECRET)
        assert posted == (200, "ok")
        with db.read() as session:
            number = session.exec(select(Ticket.number)).one()
        runtime.actions.apply(number, Reply(message="Terima kasih."), actor="operator1")
        waiting = await kanal.samples()
        assert value(waiting, "kanal_outbox_backlog", channel="whatsapp", state="pending") == 1

        await runtime.outbox.run_once()
        failed = await kanal.samples()
        outcome = {"channel": "whatsapp", "outcome": "failed"}
        assert value(failed, "kanal_outbox_failures_total", **outcome) == 1
        assert value(failed, "kanal_outbox_backlog", channel="whatsapp", state="pending") == 0


async def test_without_the_token_metrics_answer_401(kanal: Kanal) -> None:
    status, text = await kanal.scrape()
    assert status == 401 and "kanal_" not in text
    for wrong in (f"Bearer {TOKEN}x", f"Basic {TOKEN}", TOKEN, "Bearer "):
        assert (await kanal.scrape({"Authorization": wrong}))[0] == 401
    async with kanal.http.get(kanal.url("/metrics")) as response:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    ("server", "allow", "headers", "expected"),
    [
        ({}, ["10.9.9.9"], {}, 403),  # the test client is 127.0.0.1
        ({}, ["127.0.0.1"], {}, 200),
        ({}, ["127.0.0.0/8"], {}, 200),
        # Through a proxy Kanal does not trust: its address says nothing about the scraper.
        ({}, ["127.0.0.1"], {"X-Forwarded-For": "203.0.113.9"}, 403),
        ({}, ["127.0.0.1"], {"Forwarded": "for=203.0.113.9"}, 403),
        # Through a trusted proxy the allow-list is checked against the client it names.
        (
            {"trusted_proxies": ["127.0.0.1"]},
            ["127.0.0.1"],
            {"X-Forwarded-For": "203.0.113.9"},
            403,
        ),
        (
            {"trusted_proxies": ["127.0.0.1"]},
            ["203.0.113.0/24"],
            {"X-Forwarded-For": "203.0.113.9"},
            200,
        ),
    ],
)
async def test_the_allow_list_decides_by_the_scrapers_address(
    db: Database,
    tmp_path: Path,
    clock: FixedClock,
    server: dict[str, Any],
    allow: list[str],
    headers: dict[str, str],
    expected: int,
) -> None:
    metrics = {"enabled": True, "allow": allow}
    settings = settings_for(db, tmp_path, None, metrics=metrics, server=server)
    runtime = build_runtime(settings, tmp_path, db, clock=clock)
    async with running(runtime) as kanal:
        status, text = await kanal.scrape(headers)
        assert status == expected
        assert ("kanal_tickets_open" in text) == (expected == 200)


async def test_token_and_allow_list_together_need_both(
    db: Database, tmp_path: Path, clock: FixedClock
) -> None:
    metrics = {"enabled": True, "token": TOKEN, "allow": ["10.9.9.9"]}
    runtime = build_runtime(settings_for(db, tmp_path, None, metrics=metrics), tmp_path, db)
    async with running(runtime) as kanal:
        assert (await kanal.scrape({"Authorization": f"Bearer {TOKEN}"}))[0] == 403


async def test_metrics_are_off_unless_enabled(db: Database, tmp_path: Path) -> None:
    runtime = build_runtime(settings_for(db, tmp_path, None), tmp_path, db)
    async with running(runtime) as kanal:
        assert (await kanal.scrape({"Authorization": f"Bearer {TOKEN}"}))[0] == 404


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        ({"enabled": True}, "metrics: enabled needs a token or an allow list"),
        ({"enabled": True, "token": "short"}, "metrics.token: must be at least 16 characters"),
        ({"enabled": True, "allow": ["localhost"]}, "metrics.allow: 'localhost' is not an IP"),
        ({"enabled": False, "user": "x"}, "metrics.user: unknown key"),
    ],
)
def test_metrics_never_start_open_to_everyone(table: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_settings({"metrics": table}, Path("config.toml"))
    assert any(line.startswith(problem) for line in raised.value.problems), raised.value.problems


def test_two_apps_count_apart(db: Database, tmp_path: Path) -> None:
    """Each runtime has its own registry: nothing global to reset between tests or apps."""
    first = build_runtime(settings_for(db, tmp_path, None), tmp_path, db)
    second = build_runtime(settings_for(db, tmp_path, None), tmp_path, db)
    first.metrics.sent("whatsapp")
    assert (
        first.metrics.registry.get_sample_value("kanal_outbox_sent_total", {"channel": "whatsapp"})
        == 1
    )
    assert (
        second.metrics.registry.get_sample_value("kanal_outbox_sent_total", {"channel": "whatsapp"})
        is None
    )


async def test_a_poller_shows_its_health_cursor_and_leadership(
    db: Database, tmp_path: Path
) -> None:
    """Telegram in polling mode against the fake Bot API: the leading process shows the poller
    up, its cursor moving with a polled message, and down while getUpdates fails."""
    telegram = await FakeTelegramBotApi().start()
    updates = TelegramUpdates(telegram)
    channels = {
        "telegram": {
            "enabled": True,
            "bot_token": telegram.token,
            "api_base": f"http://127.0.0.1:{telegram.port}",
            "poll_interval": "50ms",
            "long_poll": "1s",
        }
    }
    metrics = {"enabled": True, "token": TOKEN}
    settings = settings_for(db, tmp_path, None, metrics=metrics, channels=channels)
    runtime = build_runtime(settings, tmp_path, db)  # the real clock: the poller waits on it
    bot = {"channel": "telegram", "account": telegram.token.split(":")[0]}
    try:
        async with running(runtime) as kanal:
            role = f"poller:telegram:{bot['account']}"
            up = await until_sample(kanal, "kanal_poller_up", **bot)
            assert value(up, "kanal_leader", role=role) == 1

            updates.push(json.loads((TELEGRAM_FIXTURES / "message__text.json").read_text()))
            polled = await until_sample(kanal, "kanal_messages_received_total", channel="telegram")
            assert value(polled, "kanal_poller_cursor_timestamp_seconds", **bot) > 0
            assert value(polled, "kanal_intake_delay_seconds_count", channel="telegram") == 1

            telegram.fail_next("getUpdates", server_error(), times=1000)
            down = await until_sample(kanal, "kanal_poller_up", expected=0, **bot)
            assert value(down, "kanal_leader", role=role) == 1  # still its poller, failing
    finally:
        await telegram.stop()


async def until_sample(kanal: Kanal, name: str, expected: float = 1, **labels: str) -> Samples:
    async with asyncio.timeout(15):
        while value(samples := await kanal.samples(), name, **labels) != expected:
            await asyncio.sleep(0.05)
    return samples
