"""WhatsApp through Kanal's own wiring: report in by webhook, reply out by the outbox, receipt in.

Uses runtime.py exactly as `kanal serve` does, with the fake Cloud API in place of Graph.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlmodel import select
from test_whatsapp_parse import OUR_ACCOUNT, all_cases

from channels.simulated.reports import sample_reports
from conftest import FixedClock
from fake_whatsapp_cloud import RE_ENGAGEMENT, FakeWhatsAppCloud
from fake_whatsapp_webhooks import post_webhook, status_webhook
from runtime import Runtime, build_runtime
from settings import parse_settings
from store.db import Database
from store.models import Message, OutboxItem, Ticket
from support.waiting import until
from triage.action_requests import Reply

APP_SECRET = "e2e-app-secret"
REPLY = "Terima kasih, laporan Anda sedang kami periksa."
REPORT = "fixtures/text__indonesian_unicode"
T = TypeVar("T")


@dataclass
class Kanal:
    runtime: Runtime
    db: Database
    url: str
    http: aiohttp.ClientSession

    async def report(self, case: str = REPORT) -> Ticket:
        assert await post_webhook(self.http, self.url, all_cases()[case], APP_SECRET) == (
            200,
            "ok",
        )
        with self.db.read() as session:
            return session.exec(select(Ticket)).one()

    def reply(self, ticket: Ticket) -> None:
        request = Reply(message=REPLY)
        self.runtime.actions.apply(ticket.number, request, actor="operator1")

    def outbound(self) -> Message | None:
        with self.db.read() as session:
            return session.exec(select(Message).where(Message.direction == "out")).first()


@pytest.fixture
async def fake() -> AsyncIterator[FakeWhatsAppCloud]:
    server = await FakeWhatsAppCloud().start()
    yield server
    await server.stop()


@pytest.fixture
async def kanal(
    db: Database, tmp_path: Path, clock: FixedClock, fake: FakeWhatsAppCloud
) -> AsyncIterator[Kanal]:
    document: dict[str, Any] = {
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
                "acknowledge": False,  # these tests follow one operator reply alone
            }
        },
    }
    settings = parse_settings(document, tmp_path / "config.toml")
    runtime = build_runtime(settings, tmp_path, db, clock=clock)
    server = TestServer(await runtime.web_app())
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as http:
            yield Kanal(runtime, db, str(server.make_url("/webhooks/whatsapp")), http)
            await fake.statuses_reported()
    finally:
        await server.close()


async def test_report_reply_and_receipt(kanal: Kanal, fake: FakeWhatsAppCloud) -> None:
    ticket = await kanal.report()
    kanal.reply(ticket)

    out = await until(lambda: (m := kanal.outbound()) and m.platform_message_id and m)
    assert out.platform_message_id == "wamid.FAKE00000001"
    [request] = fake.sent
    inbound = json.loads(all_cases()[REPORT])["entry"][0]["changes"][0]["value"]["messages"][0]
    assert request["type"] == "text"  # the report is an hour old: inside the window
    assert request["to"] == inbound["from"]
    assert request["text"]["body"] == REPLY
    assert request["context"] == {"message_id": inbound["id"]}
    with kanal.db.read() as session:
        outbox = session.exec(select(OutboxItem)).one()
    assert request["biz_opaque_callback_data"] == outbox.idempotency_key

    receipt = status_webhook(OUR_ACCOUNT, out.platform_message_id, "read")
    assert await post_webhook(kanal.http, kanal.url, receipt, APP_SECRET) == (200, "ok")
    with kanal.db.read() as session:
        assert session.get(Message, out.id).delivery_state == "read"


async def test_statuses_meta_reports_after_the_send_reach_the_message(
    kanal: Kanal, fake: FakeWhatsAppCloud
) -> None:
    fake.status_hook = (kanal.url, APP_SECRET)
    fake.status_gate = asyncio.Event()
    kanal.reply(await kanal.report())
    await until(lambda: (m := kanal.outbound()) and m.platform_message_id)
    fake.status_gate.set()  # Meta's receipts come once the send was answered

    out = await until(lambda: (m := kanal.outbound()) and m.delivery_state == "delivered" and m)
    assert out.platform_message_id == "wamid.FAKE00000001"
    await fake.statuses_reported()
    assert fake.hook_answers == [200, 200]


async def test_a_window_failure_reported_later_marks_the_reply_failed(
    kanal: Kanal, fake: FakeWhatsAppCloud
) -> None:
    """131047 often comes as a `failed` status after a 200, not as the send's answer."""
    fake.status_hook = (kanal.url, APP_SECRET)
    fake.status_gate = asyncio.Event()
    fake.async_failures = [RE_ENGAGEMENT]
    kanal.reply(await kanal.report())
    await until(lambda: (m := kanal.outbound()) and m.platform_message_id)
    fake.status_gate.set()

    out = await until(lambda: (m := kanal.outbound()) and m.delivery_state == "failed" and m)
    assert (out.platform_message_id, out.error_code) == ("wamid.FAKE00000001", "131047")
    assert out.error_message.startswith("(#131047) Re-engagement message")


async def test_a_status_that_beats_the_send_answer_still_reaches_the_message(
    kanal: Kanal, fake: FakeWhatsAppCloud
) -> None:
    fake.status_hook = (kanal.url, APP_SECRET)
    fake.report_before_answer = True
    fake.async_failures = [RE_ENGAGEMENT]
    kanal.reply(await kanal.report())

    out = await until(lambda: (m := kanal.outbound()) and m.platform_message_id and m)
    assert fake.hook_answers == [200]  # stored before the send was even answered
    assert (out.delivery_state, out.error_code) == ("failed", "131047")


async def test_sample_reports_are_never_answered_on_the_real_account(
    kanal: Kanal, fake: FakeWhatsAppCloud, clock: FixedClock
) -> None:
    [sample] = [r for r in sample_reports(40, now=clock(), seed=3) if r.channel == "whatsapp"][:1]
    await kanal.runtime.intake.submit([sample])
    with kanal.db.read() as session:
        ticket = session.exec(select(Ticket)).one()
    kanal.reply(ticket)

    out = await until(lambda: (m := kanal.outbound()) and m.delivery_state == "failed" and m)
    assert out.error_code == "foreign_account"
    assert "account simulasi" in out.error_message
    assert fake.sent == []
