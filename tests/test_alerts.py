"""Escalation alerts (batched per OPD, quiet period) and channel-health alerts, delivered through a
real SMTP server and the fake Telegram Bot API, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select
from test_digest import act, assessed, kanal, notifier_config, report, wib

from api_client import Api
from fake_telegram_api import FakeTelegramBotApi
from notifier import escalations
from runtime import build_runtime
from servers.smtp import SmtpServer
from store.db import Database
from store.models import ChannelHealthState, EscalationAlert, RetentionMark
from store.retention import Keep, prune
from triage.config import TriageConfig
from triage.states import Action

WIB = ZoneInfo("Asia/Jakarta")


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegramBotApi]:
    fake = await FakeTelegramBotApi().start()
    yield fake
    await fake.stop()


@pytest.fixture
async def api(
    database_url: str, tmp_path: Path, clock, smtp_server: SmtpServer, telegram
) -> AsyncIterator[Api]:
    # The OPD's answer is due 2 h after forwarding (category pju), the whole case 4 h after
    # verification; quiet period 4 h (the default).
    # The digest is put out of the way (23:59) so that only alerts are sent.
    triage = TriageConfig(clarification_timeout="6h", resolve_within="4h")
    notifier = notifier_config(smtp_server, telegram, digest_time="23:59")
    async with kanal(
        database_url, tmp_path, clock, smtp_server, telegram, triage=triage, notifier=notifier
    ) as api:
        yield api


async def tick(api: Api) -> None:
    assert api.runtime.notifier is not None
    await asyncio.to_thread(api.runtime.sweeps.run)
    await api.runtime.notifier.tick()


async def one_opd_answer_late(api: Api) -> None:
    """Ticket 00001 forwarded at 08:00 to the OPD of lights, now 10:30: its answer is late."""
    api.clock.now = wib(23, 8)
    await api.runtime.intake.submit([report(1, api.clock)])
    await assessed(api)
    act(api, "00001", Action.VERIFY, category="pju")
    act(api, "00001", Action.FORWARD)
    api.clock.now = wib(23, 10, 30)


def mails(smtp: SmtpServer, start: int = 0) -> list[tuple[str, str, str]]:
    """(to, subject, text) of the mails received since `start`."""
    return [
        (
            m.rcpt_tos[0],
            str(m.message["Subject"]),
            m.message.get_body(("plain",)).get_content().replace("\r\n", "\n"),
        )
        for m in smtp.received[start:]
    ]


def chats(telegram: FakeTelegramBotApi, start: int = 0) -> list[tuple[str, str]]:
    return [(c.params["chat_id"], c.params["text"]) for c in telegram.calls_of("sendMessage")][
        start:
    ]


async def test_escalations_are_batched_per_opd_and_held_in_the_quiet_period(
    api: Api, smtp_server: SmtpServer, telegram: FakeTelegramBotApi
) -> None:
    clock = api.clock
    clock.now = wib(23, 8)
    for n in (1, 2, 3, 4):
        await api.runtime.intake.submit([report(n, clock)])
    await assessed(api)
    for number in ("00001", "00002", "00003", "00004"):
        act(api, number, Action.VERIFY, category="pju")
    act(api, "00001", Action.FORWARD)
    act(api, "00002", Action.FORWARD)
    act(api, "00004", Action.FORWARD, opd="pupr")

    clock.now = wib(23, 10, 30)  # the three OPD answers were due at 10:00
    await tick(api)
    sent = mails(smtp_server)
    assert Counter(to for to, _, _ in sent) == {
        "dishub@patikab.go.id": 1,
        "pupr@patikab.go.id": 1,
        "kadis@patikab.go.id": 2,  # one message per OPD
        "sekda@patikab.go.id": 2,
    }
    [(_, subject, text)] = [m for m in sent if m[0] == "dishub@patikab.go.id"]
    assert subject == "Laporan terlambat dijawab: Dinas Perhubungan (2)"
    assert text == (
        "2 laporan yang diteruskan ke Dinas Perhubungan melewati tenggat jawaban OPD:\n\n"
        "- LBP-2026-00001: batas Senin, 23 November 2026 pukul 10.00 WIB, terlambat 0,5 jam\n"
        "- LBP-2026-00002: batas Senin, 23 November 2026 pukul 10.00 WIB, terlambat 0,5 jam\n\n"
        "Mohon segera ditindaklanjuti dan jawabannya disampaikan lewat Kanal.\n"
    )
    english = [s for to, s, _ in sent if to == "sekda@patikab.go.id"]
    assert sorted(english) == [
        "Reports overdue for an answer: Dinas PUPR (1)",
        "Reports overdue for an answer: Dinas Perhubungan (2)",
    ]
    assert sorted(chats(telegram)) == [
        ("1001", "<b>Terlambat dijawab: Dinas PUPR</b>\nLBP-2026-00004: terlambat 0,5 jam\n"),
        (
            "1001",
            "<b>Terlambat dijawab: Dinas Perhubungan</b>\nLBP-2026-00001: terlambat 0,5 jam\n"
            "LBP-2026-00002: terlambat 0,5 jam\n",
        ),
        ("2001", "<b>Terlambat dijawab: Dinas PUPR</b>\nLBP-2026-00004: terlambat 0,5 jam\n"),
    ]
    await tick(api)
    assert len(smtp_server.received) == 6  # alerted once

    # 11:00: 00003 goes to Dishub and 00001 is handed to it again (a new due time, 13:00).
    clock.now = wib(23, 11)
    act(api, "00003", Action.FORWARD)
    act(api, "00001", Action.FORWARD)
    clock.now = wib(23, 13, 30)
    await tick(api)
    # The overall deadline (12:00) passed for all four: supervisors only, per OPD.
    overall = mails(smtp_server, 6)
    assert sorted((to, subject) for to, subject, _ in overall) == [
        ("kadis@patikab.go.id", "Laporan melewati batas penyelesaian: Dinas PUPR (1)"),
        ("kadis@patikab.go.id", "Laporan melewati batas penyelesaian: Dinas Perhubungan (3)"),
        ("sekda@patikab.go.id", "Reports past their resolution deadline: Dinas PUPR (1)"),
        ("sekda@patikab.go.id", "Reports past their resolution deadline: Dinas Perhubungan (3)"),
    ]
    # Dishub's new OPD-answer escalations (00001 again, 00003) wait out the quiet period...
    clock.now = wib(23, 14, 29)
    await tick(api)
    assert len(smtp_server.received) == 10
    # ...and then go in one batch.
    clock.now = wib(23, 14, 31)
    await tick(api)
    later = mails(smtp_server, 10)
    assert sorted(to for to, _, _ in later) == [
        "dishub@patikab.go.id",
        "kadis@patikab.go.id",
        "sekda@patikab.go.id",
    ]
    assert "- LBP-2026-00001: batas Senin, 23 November 2026 pukul 13.00 WIB" in later[0][2]
    assert "- LBP-2026-00003: batas Senin, 23 November 2026 pukul 13.00 WIB" in later[0][2]
    with api.runtime.db.read() as session:
        alerts = session.exec(select(EscalationAlert)).all()
    assert sorted((a.kind, a.opd, a.suppressed) for a in alerts) == sorted(
        [("opd_overdue", "dishub", False)] * 4
        + [("opd_overdue", "pupr", False)]
        + [("overall_overdue", "dishub", False)] * 3
        + [("overall_overdue", "pupr", False)]
    )


async def test_a_resolved_ticket_is_not_alerted_late(
    api: Api, smtp_server: SmtpServer, telegram: FakeTelegramBotApi
) -> None:
    await one_opd_answer_late(api)
    await asyncio.to_thread(api.runtime.sweeps.run)  # escalated...
    act(api, "00001", Action.RESOLVE, message="Lampu sudah menyala.")  # ...then resolved
    assert api.runtime.notifier is not None
    await api.runtime.notifier.tick()
    assert smtp_server.received == []
    with api.runtime.db.read() as session:
        [alert] = session.exec(select(EscalationAlert)).all()
    assert (alert.kind, alert.suppressed, alert.batch) == ("opd_overdue", True, None)


async def test_a_stopped_channel_alerts_admins_once_and_again_when_it_recovers(
    database_url: str, tmp_path: Path, clock, smtp_server: SmtpServer, telegram
) -> None:
    quiet = {"notifier": notifier_config(smtp_server, telegram, digest_time="23:59")}
    async with kanal(database_url, tmp_path, clock, smtp_server, telegram, **quiet) as api:
        notifier = api.runtime.notifier
        assert notifier is not None
        notifier.health.working("email", "lapor@patikab.go.id")
        await notifier.tick()
        assert chats(telegram) == []  # working from the start is not news
        clock.now = wib(22, 11)
        notifier.health.failing("email", "lapor@patikab.go.id", "IMAP login refused")
        notifier.health.failing("email", "lapor@patikab.go.id", "IMAP login refused")
        await notifier.tick()
        await notifier.tick()
        assert chats(telegram) == [
            (
                "1002",
                "<b>Saluran Surel berhenti</b> (lapor@patikab.go.id)\n"
                "Penyebab: IMAP login refused\n",
            )
        ]
        settings = api.runtime.settings

    # After a restart the channel still fails: the admins already know.
    restarted = build_runtime(settings, tmp_path, Database(database_url), clock=clock)
    notifier = restarted.notifier
    assert notifier is not None
    notifier.health.failing("email", "lapor@patikab.go.id", "IMAP login refused")
    await notifier.tick()
    assert len(chats(telegram)) == 1
    clock.now = wib(22, 12)
    notifier.health.working("email", "lapor@patikab.go.id")
    await notifier.tick()
    assert chats(telegram, 1) == [
        ("1002", "<b>Saluran Surel pulih</b> (lapor@patikab.go.id)\n"),
    ]
    with restarted.db.read() as session:
        row = session.get(ChannelHealthState, ("email", "lapor@patikab.go.id"))
        assert row is not None
        assert (row.state, row.alerted_state, row.since, row.reason) == ("ok", "ok", clock(), None)
    await notifier.close()
    restarted.db.dispose()
    assert smtp_server.received == []  # the admin reads Telegram only


def test_recipients_need_the_addresses_of_their_channels() -> None:
    from pydantic import ValidationError

    from notifier.config import NotifierConfig

    with pytest.raises(ValidationError, match="channels lists email but email is not set"):
        NotifierConfig(recipient=[{"name": "x", "telegram_chat_id": "1", "channels": ["email"]}])
    with pytest.raises(ValidationError, match=r"smtp\.host and smtp\.from_address are needed"):
        NotifierConfig(enabled=True, recipient=[{"name": "x", "email": "x@patikab.go.id"}])
    config = NotifierConfig(recipient=[{"name": "x", "telegram_chat_id": 5}])
    assert config.recipient[0].channels == ["telegram"]
    assert config.recipient[0].telegram_chat_id == "5"


def test_a_long_telegram_alert_is_cut_to_stay_under_telegram_limit() -> None:
    from notifier.render import render

    due = wib(23, 10)
    tickets = [
        {"number": f"LBP-2026-{n:05d}", "due_at": due, "hours_late": 26.25} for n in range(1, 46)
    ]
    values = {"kind": "opd_overdue", "opd_name": "Dinas PUPR", "tickets": tickets}
    body = render("escalation.tg.j2", "id", WIB, **values).body
    lines = body.splitlines()
    assert lines[0] == "<b>Terlambat dijawab: Dinas PUPR</b>"
    assert lines[1:41] == [f"LBP-2026-{n:05d}: terlambat 26,2 jam" for n in range(1, 41)]
    assert lines[41:] == ["+5 lainnya"]
    assert len(body) < 4096


async def test_alerts_dealt_with_are_cleaned_up_and_never_sent_again(
    api: Api, smtp_server: SmtpServer
) -> None:
    """The clean-up deletes old escalation_alerts rows; the notifier's mark keeps their events
    from looking new, and each pass reads only the events after it."""
    clock = api.clock
    await one_opd_answer_late(api)
    await tick(api)  # the OPD's answer is late: escalated and alerted
    sent = len(smtp_server.received)
    assert sent > 0
    notifier = api.runtime.notifier
    assert notifier is not None
    with api.runtime.db.read() as session:
        [alert] = session.exec(select(EscalationAlert)).all()
        mark = session.get(RetentionMark, "escalations")
    assert mark is not None and mark.last_id == alert.event_id
    with api.runtime.db.read() as session:
        assert escalations.pending(session).events == []

    clock.advance(timedelta(days=179))
    assert prune(api.runtime.db, clock(), Keep(), batch=10).escalation_alerts == 0
    clock.advance(timedelta(days=2))
    assert prune(api.runtime.db, clock(), Keep(), batch=10).escalation_alerts == 1
    assert await asyncio.to_thread(notifier.sweep_escalations) == 0
    with api.runtime.db.read() as session:
        assert session.exec(select(EscalationAlert)).all() == []
    assert len(smtp_server.received) == sent
