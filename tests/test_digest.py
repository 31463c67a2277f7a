"""The daily digest: every figure of a seeded day checked against what was seeded through the real
intake and TicketActions, its email (text, HTML, inline chart) through a real SMTP server and its
Telegram message through the fake Bot API; retries and once-a-day across restarts."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from api_client import Api, running_api
from channels.base import InboundMessage
from fake_telegram_api import FakeTelegramBotApi, too_many_requests
from runtime import build_runtime
from servers.smtp import SmtpServer
from store.db import Database
from store.models import DigestRun, Notification, Ticket
from triage.action_requests import parse_action
from triage.config import CategoryConfig, OpdConfig, TriageConfig
from triage.states import Action, Resolution

WIB = ZoneInfo("Asia/Jakarta")
CATEGORIES = [
    CategoryConfig(code="jalan", name="Jalan dan jembatan", opd="pupr", keywords=["jalan"]),
    CategoryConfig(code="pju", name="Penerangan jalan", opd="dishub", opd_answer="2h"),
]
OPDS = [
    OpdConfig(code="pupr", name="Dinas PUPR", email="pupr@patikab.go.id", telegram_chat_id="2001"),
    OpdConfig(code="dishub", name="Dinas Perhubungan", email="dishub@patikab.go.id"),
]
RECIPIENTS = [
    {"name": "kadis", "email": "kadis@patikab.go.id", "telegram_chat_id": "1001"},
    {"name": "sekda", "email": "sekda@patikab.go.id", "locale": "en"},
    {"name": "admin", "telegram_chat_id": "1002", "receives": ["health"]},
]


def wib(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=WIB).astimezone(UTC)


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegramBotApi]:
    fake = await FakeTelegramBotApi().start()
    yield fake
    await fake.stop()


def notifier_config(smtp: SmtpServer, telegram: FakeTelegramBotApi, **extra: Any) -> dict:
    """Scheduler jobs off (enabled = false): tests call `tick()`, what the jobs call."""
    return {
        "enabled": False,
        "smtp": {
            "host": smtp.host,
            "port": smtp.port,
            "tls": "none",
            "from_address": "kanal@patikab.go.id",
        },
        "telegram": {
            "bot_token": telegram.token,
            "api_base": telegram.base_url,
            "file_base": telegram.base_file_url,
        },
        "recipient": RECIPIENTS,
        **extra,
    }


def settings_values(smtp: SmtpServer, telegram: FakeTelegramBotApi, **extra: Any) -> dict:
    return {
        "category": CATEGORIES,
        "opd": OPDS,
        "triage": TriageConfig(clarification_timeout="6h"),
        "notifier": notifier_config(smtp, telegram, **extra),
    }


@asynccontextmanager
async def kanal(
    database_url: str,
    tmp_path: Path,
    clock,
    smtp: SmtpServer,
    telegram: FakeTelegramBotApi,
    **overrides: Any,
) -> AsyncIterator[Api]:
    clock.now = wib(22, 10)
    values = {**settings_values(smtp, telegram), **overrides}
    async with running_api(database_url, tmp_path, clock, **values) as api:
        yield api


def report(n: int, clock, channel: str = "whatsapp") -> InboundMessage:
    if channel == "email":
        return InboundMessage(
            channel="email",
            account="lapor@patikab.go.id",
            external_id=f"<report{n}@mail.example>",
            sender_id=f"warga{n}@mail.example",
            sent_at=clock(),
            text=f"Laporan {n}: saluran air tersumbat di Desa Kayen",
            subject=f"Laporan {n}",
            contact=f"warga{n}@mail.example",
        )
    return InboundMessage(
        channel="whatsapp",
        account="1234567890",
        external_id=f"wamid.digest{n}",
        sender_id=f"62812555{n:04d}",
        sent_at=clock(),
        text=f"Laporan {n}: jalan rusak di Desa Kayen",
        display_name=f"Warga {n}",
        contact=f"+62812555{n:04d}",
    )


async def assessed(api: Api) -> None:
    """Wait until triage has written its hints on every ticket: the assessor rewrites a ticket's
    flags, so acting before it is done could lose what a sweep marked there."""

    def done() -> bool:
        with api.runtime.db.read() as session:
            return all("missing" in t.flags for t in session.exec(select(Ticket)).all())

    async with asyncio.timeout(10):
        while not await asyncio.to_thread(done):
            await asyncio.sleep(0.02)


def act(api: Api, number: str, action: Action, **values: Any) -> None:
    api.runtime.actions.apply(
        f"LBP-2026-{number}", parse_action({"action": action, **values}), "operator1"
    )


async def seed_day(api: Api) -> None:
    """Sunday 22 Nov: one report left new. Monday 23 Nov (the digest's day), all WIB:
    08:00  00002..00007 arrive (4 WhatsApp, 2 email: 00004 and 00005)
    08:30  00002 verified (jalan, PUPR)              first response 0.5 h
    09:00  00003 asked to clarify (due 15:00)        1 h; 00002 forwarded to PUPR
    10:00  00004 rejected not_factual, 00005 out_of_jurisdiction      2 h each
    11:00  00006 verified (pju) and forwarded to Dinas Perhubungan, due 13:00   3 h
    12:00  00002 acknowledged; 14:00 00002 resolved                   resolution 6 h
    15:30  sweep: 00003 auto-closed (no answer), 00006 escalated (opd_overdue)
    Tuesday 24 Nov 02:00: 00007 asked to clarify (due 08:00)          18 h
    Tuesday 24 Nov 06:00: 00008 arrives (not in the day)."""
    clock = api.clock
    await api.runtime.intake.submit([report(1, clock)])
    clock.now = wib(23, 8)
    for n, channel in ((2, "whatsapp"), (3, "whatsapp"), (4, "email"), (5, "email")):
        await api.runtime.intake.submit([report(n, clock, channel)])
    for n in (6, 7):
        await api.runtime.intake.submit([report(n, clock)])
    await assessed(api)
    clock.now = wib(23, 8, 30)
    act(api, "00002", Action.VERIFY, category="jalan")
    clock.now = wib(23, 9)
    act(api, "00003", Action.REQUEST_CLARIFICATION, facts=("location",))
    act(api, "00002", Action.FORWARD)
    clock.now = wib(23, 10)
    act(api, "00004", Action.REJECT, resolution=Resolution.NOT_FACTUAL)
    act(api, "00005", Action.REJECT, resolution=Resolution.OUT_OF_JURISDICTION)
    clock.now = wib(23, 11)
    act(api, "00006", Action.VERIFY, category="pju")
    act(api, "00006", Action.FORWARD)
    clock.now = wib(23, 12)
    act(api, "00002", Action.ACKNOWLEDGE)
    clock.now = wib(23, 14)
    act(api, "00002", Action.RESOLVE, message="Jalan sudah diperbaiki.")
    clock.now = wib(23, 15, 30)
    swept = await asyncio.to_thread(api.runtime.sweeps.run)
    assert (swept.closed, swept.escalated_opd) == (1, 1)
    clock.now = wib(24, 2)
    act(api, "00007", Action.REQUEST_CLARIFICATION, facts=("photo",))
    clock.now = wib(24, 6)
    await api.runtime.intake.submit([report(8, clock)])
    await assessed(api)


RESOLVED_ONCE = {
    "resolved": 1,
    "reopened": 0,
    "reopened_share": 0.0,
    "rated": 0,
    "mean_rating": None,
}
DAY = {
    "received": {"total": 6, "by_channel": {"email": 2, "whatsapp": 4}},
    "valid": 2,
    "not_valid": {"total": 2, "by_reason": {"not_factual": 1, "no_response": 1, "spam": 0}},
    "rejected": {
        "total": 1,
        "by_reason": {"out_of_jurisdiction": 1, "not_government_affairs": 0, "private_matter": 0},
    },
    "by_status": {
        "new": 0,
        "clarifying": 1,
        "forwarded": 1,
        "in_progress": 0,
        "answered": 0,
        "resolved": 1,
        "closed": 3,
    },
    "by_category": {"jalan": 1, "pju": 1},
    "by_opd": {"dishub": 1, "pupr": 1},
    "overdue_by_opd": {"dishub": ["LBP-2026-00006"]},
    "overdue_verify": [],  # 00001 (Sunday) has until the end of Thursday 26 Nov
    "median_first_response_hours": 2.0,  # of 0.5, 1, 2, 2, 3, 18
    "median_resolution_hours": 6.0,
    # The one resolved ticket, neither reopened nor rated by its reporter (issue 18).
    "satisfaction": {
        "by_opd": {"pupr": RESOLVED_ONCE},
        "by_category": {"jalan": RESOLVED_ONCE},
    },
}
MONTH = {
    **DAY,
    "received": {"total": 7, "by_channel": {"email": 2, "whatsapp": 5}},
    "by_status": {**DAY["by_status"], "new": 1},
}
EMPTY = {
    "received": {"total": 0, "by_channel": {}},
    "valid": 0,
    "not_valid": {"total": 0, "by_reason": {"not_factual": 0, "no_response": 0, "spam": 0}},
    "rejected": {
        "total": 0,
        "by_reason": {"out_of_jurisdiction": 0, "not_government_affairs": 0, "private_matter": 0},
    },
    "by_status": {s: 0 for s in DAY["by_status"]},
    "by_category": {},
    "by_opd": {},
    "overdue_by_opd": {},
    "overdue_verify": [],
    "median_first_response_hours": None,
    "median_resolution_hours": None,
    "satisfaction": {"by_opd": {}, "by_category": {}},
}


@pytest.fixture
async def seeded(
    database_url: str, tmp_path: Path, clock, smtp_server: SmtpServer, telegram
) -> AsyncIterator[Api]:
    async with kanal(database_url, tmp_path, clock, smtp_server, telegram) as api:
        await seed_day(api)
        clock.now = wib(24, 7)
        yield api


async def test_every_figure_of_a_seeded_day_and_its_month(seeded: Api) -> None:
    notifier = seeded.runtime.notifier
    assert notifier is not None
    digest = await asyncio.to_thread(notifier.build, date(2026, 11, 23))
    assert digest.as_json() == {"date": "2026-11-23", "day": DAY, "month_to_date": MONTH}
    assert [(t.number, t.opd, t.kind, t.hours_late) for t in digest.overdue] == [
        ("LBP-2026-00006", "dishub", "opd", 18.0)
    ]
    assert digest.closing_today == [("LBP-2026-00007", wib(24, 8))]
    assert digest.daily_received == [0] * 21 + [1, 6]
    assert digest.stages["day"] == {"to_follow_up": 1, "in_process": 1, "resolved": 1, "closed": 3}


async def test_the_operators_verify_clock_is_counted_for_their_team(seeded: Api) -> None:
    """00001 came on Sunday 22 Nov and was never verified: its three working days end on
    Thursday 26 Nov, so Friday's digest lists it for the operators, apart from any OPD."""
    notifier = seeded.runtime.notifier
    assert notifier is not None
    seeded.clock.now = wib(27, 7)
    digest = await asyncio.to_thread(notifier.build, date(2026, 11, 26))
    assert digest.as_json()["month_to_date"]["overdue_verify"] == ["LBP-2026-00001"]
    assert [(t.number, t.kind) for t in digest.overdue][:1] == [("LBP-2026-00001", "verify")]
    _, payload = notifier.digest_content(digest, "id")
    assert "Tim operator:\n  - LBP-2026-00001: batas verifikasi lewat" in payload["text"]
    assert "Tidak ada laporan yang terlambat" not in payload["text"]
    _, payload = notifier.digest_content(digest, "en")
    assert "Operators:\n  - LBP-2026-00001: verification due, late by" in payload["text"]
    assert "Operators: LBP-2026-00001" in payload["telegram"]


async def test_a_day_without_reports_and_the_day_after(seeded: Api) -> None:
    notifier = seeded.runtime.notifier
    assert notifier is not None
    quiet = await asyncio.to_thread(notifier.build, date(2026, 11, 21))
    assert quiet.as_json() == {"date": "2026-11-21", "day": EMPTY, "month_to_date": EMPTY}
    subject, payload = notifier.digest_content(quiet, "id")
    assert subject == "Ringkasan harian Kabupaten Pati, Sabtu, 21 November 2026"
    assert "Laporan masuk: 0\n" in payload["text"]
    assert "Median tanggapan pertama: -\n" in payload["text"]
    # Tuesday so far: only 00008, still new; the month now counts it too.
    tuesday = await asyncio.to_thread(notifier.build, date(2026, 11, 24))
    assert tuesday.day_figures["received"] == {"total": 1, "by_channel": {"whatsapp": 1}}
    assert tuesday.month_figures["received"]["total"] == 8


async def test_the_digest_mail_has_text_html_and_an_inline_chart(
    seeded: Api, smtp_server: SmtpServer, telegram: FakeTelegramBotApi
) -> None:
    notifier = seeded.runtime.notifier
    assert notifier is not None
    await notifier.tick()

    mails = digest_mails(smtp_server)
    assert sorted(mails) == ["kadis@patikab.go.id", "sekda@patikab.go.id"]
    mail = mails["kadis@patikab.go.id"]
    assert mail["Subject"] == "Ringkasan harian Kabupaten Pati, Senin, 23 November 2026"
    assert mail["From"] == "Kanal <kanal@patikab.go.id>"
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail.get_content_type() == "multipart/alternative"
    text = mail.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert "Laporan masuk: 6\n  - Surel: 2\n  - WhatsApp: 4\n" in text
    assert "Valid (terverifikasi): 2\nTidak valid: 2\n  - Tidak faktual: 1\n" in text
    assert "  - Tidak ada tanggapan pelapor: 1\nDitolak: 1\n  - Di luar wilayah: 1\n" in text
    assert "Selesai: 1 | Dalam proses: 1 | Perlu tindak lanjut: 1 | Ditutup: 3\n" in text
    assert "Median tanggapan pertama: 2,0 jam\nMedian penyelesaian: 6,0 jam\n" in text
    # Issue 18: resolved, reopened by the reporter, mean rating (none given yet).
    assert "rata-rata nilai 1-5):\n  - Dinas PUPR: 1, 0, -\n" in text
    assert "Dinas Perhubungan:\n  - LBP-2026-00006: batas jawaban OPD lewat 18,0 jam\n" in text
    assert "  - LBP-2026-00007 pukul 08.00 WIB bila pelapor tidak membalas\n" in text
    related = mail.get_body(("related",))
    assert related is not None
    html = related.get_body(("html",)).get_content().replace("\r\n", "\n")
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert 'src="cid:digest-chart"' in html
    assert "<li>LBP-2026-00006: batas jawaban OPD lewat 18,0 jam</li>" in html
    [image] = [p for p in related.iter_parts() if p.get_content_type() == "image/png"]
    assert image["Content-ID"] == "<digest-chart>"
    assert image.get_content_disposition() == "inline"
    png = image.get_content()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and png[12:16] == b"IHDR"
    assert int.from_bytes(png[16:20], "big") == 480  # width

    english = mails["sekda@patikab.go.id"]
    assert english["Subject"] == "Daily digest Kabupaten Pati, Monday 23 November 2026"
    assert "Reports received: 6\r\n" in english.get_body(("plain",)).get_content()

    [message] = digest_messages(telegram)
    assert (message.params["chat_id"], message.params["parse_mode"]) == ("1001", "HTML")
    assert message.params["text"].startswith(
        "<b>Ringkasan Kabupaten Pati</b>\nSenin, 23 November 2026\n\n"
        "<b>Kemarin:</b> 6 laporan masuk (Surel 2, WhatsApp 4)\n"
    )
    assert "Dinas Perhubungan: LBP-2026-00006 (+18,0 jam)" in message.params["text"]
    # Accepted: the markup is Telegram's HTML subset.
    assert [m["chat"]["id"] for m in telegram.sent if "Ringkasan" in m["text"]] == [1001]


async def test_a_refused_mail_is_retried_and_a_blocked_chat_given_up(
    seeded: Api, smtp_server: SmtpServer, telegram: FakeTelegramBotApi
) -> None:
    notifier = seeded.runtime.notifier
    assert notifier is not None
    smtp_server.handler.reply = "451 4.3.0 Mail server temporarily rejected message"
    telegram.blocked_chats.add("1001")
    await notifier.tick()
    assert digest_mails(smtp_server) == {}
    rows = await asyncio.to_thread(notifications, seeded.runtime.db)
    state, attempts, due, _ = rows["digest:2026-11-23:kadis:email"]
    assert (state, attempts) == ("pending", 1)
    assert wib(24, 7) + timedelta(seconds=48) <= due <= wib(24, 7, 1)  # a minute, spread
    assert "451" in (rows["digest:2026-11-23:kadis:email"][3] or "")
    assert rows["digest:2026-11-23:kadis:telegram"][:2] == ("failed", 1)
    assert "bot was blocked" in (rows["digest:2026-11-23:kadis:telegram"][3] or "")

    smtp_server.handler.reply = None
    await notifier.tick()  # not due yet: the retry waits its back-off
    assert digest_mails(smtp_server) == {}
    seeded.clock.advance(timedelta(minutes=1))
    await notifier.tick()
    assert sorted(digest_mails(smtp_server)) == ["kadis@patikab.go.id", "sekda@patikab.go.id"]
    assert len(smtp_server.received) == 5  # and the escalation alert to Dishub and both
    rows = await asyncio.to_thread(notifications, seeded.runtime.db)
    assert rows["digest:2026-11-23:kadis:email"][:2] == ("sent", 2)
    assert len(digest_messages(telegram)) == 1  # a blocked chat is not tried again


async def test_a_telegram_rate_limit_waits_as_long_as_telegram_says(
    seeded: Api, telegram: FakeTelegramBotApi
) -> None:
    notifier = seeded.runtime.notifier
    assert notifier is not None
    telegram.fail_next("sendMessage", too_many_requests(300))
    await notifier.tick()
    key = "digest:2026-11-23:kadis:telegram"
    state, attempts, due, error = (await asyncio.to_thread(notifications, seeded.runtime.db))[key]
    assert (state, attempts, due) == ("pending", 1, wib(24, 7, 5))
    assert error == "Flood control exceeded. Retry in 300 seconds"
    seeded.clock.advance(timedelta(minutes=5))
    await notifier.tick()
    assert len([m for m in telegram.sent if "Ringkasan" in m["text"]]) == 1
    assert (await asyncio.to_thread(notifications, seeded.runtime.db))[key][:2] == ("sent", 2)


def digest_mails(smtp: SmtpServer) -> dict[str, Any]:
    """Digest mails by recipient (escalation alerts of the seeded day go out too)."""
    digests = ("Ringkasan harian", "Daily digest")
    return {
        m.rcpt_tos[0]: m.message
        for m in smtp.received
        if str(m.message["Subject"]).startswith(digests)
    }


def digest_messages(telegram: FakeTelegramBotApi) -> list[Any]:
    return [c for c in telegram.calls_of("sendMessage") if "Ringkasan" in c.params["text"]]


def notifications(db: Database) -> dict[str, tuple[str, int, datetime, str | None]]:
    with db.read() as session:
        rows = session.exec(select(Notification)).all()
        return {r.key: (r.state, r.attempts, r.next_attempt_at, r.last_error) for r in rows}


async def test_the_scheduled_digest_is_sent_once_across_a_restart(
    database_url: str, tmp_path: Path, clock, smtp_server: SmtpServer, telegram
) -> None:
    async with kanal(database_url, tmp_path, clock, smtp_server, telegram) as first:
        await seed_day(first)
        clock.now = wib(24, 6, 59)
        notifier = first.runtime.notifier
        assert notifier is not None
        await notifier.tick()
        assert digest_mails(smtp_server) == {}  # not time yet
        # A second process on the same database, both passing 07:00 at once.
        settings = first.runtime.settings
        other = build_runtime(settings, tmp_path, Database(database_url), clock=clock)
        assert other.notifier is not None
        clock.now = wib(24, 7)
        await asyncio.gather(notifier.tick(), other.notifier.tick())
        await other.notifier.close()
    assert len([m for m in smtp_server.received if "Ringkasan" in str(m.message["Subject"])]) == 1
    assert len(digest_messages(telegram)) == 1
    assert len(digest_mails(smtp_server)) == 2

    # Restarted at 07:05 (and again at 23:00): nothing more for that day.
    restarted = build_runtime(settings, tmp_path, Database(database_url), clock=clock)
    assert restarted.notifier is not None
    for moment in (wib(24, 7, 5), wib(24, 23)):
        clock.now = moment
        await restarted.notifier.tick()
    await restarted.notifier.close()
    assert len(digest_mails(smtp_server)) == 2
    assert sum("igest" in str(m.message["Subject"]) for m in smtp_server.received) == 1
    with restarted.db.read() as session:
        assert [r.day for r in session.exec(select(DigestRun)).all()] == ["2026-11-23"]
    restarted.db.dispose()


async def test_the_cli_prints_the_json_digest(
    seeded: Api, tmp_path: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from alembic import command

    from main import main
    from store.migrate import alembic_config

    # The schema was made by create_all (running_api): mark it as migrated.
    command.stamp(alembic_config(database_url), "head")
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "{database_url}"\n[region]\nname = "Kabupaten Pati"\n',
        encoding="utf-8",
    )
    assert (
        main(["--config", str(config), "digest", "--date", "2026-11-23", "--format", "json"]) == 0
    )
    printed = json.loads(capsys.readouterr().out)
    # The CLI reads "now" from the real clock: figures that depend on it are left out.
    for period in ("day", "month_to_date"):
        printed[period].pop("overdue_by_opd")
        printed[period].pop("overdue_verify")
    expected = {"date": "2026-11-23", "day": dict(DAY), "month_to_date": dict(MONTH)}
    for period in ("day", "month_to_date"):
        expected[period].pop("overdue_by_opd")
        expected[period].pop("overdue_verify")
    assert printed == expected
