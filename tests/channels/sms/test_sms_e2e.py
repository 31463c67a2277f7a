"""SMS through Kanal's own wiring: a report in by the signed webhook, the operator's reply out by
the outbox to the local SMS Gateway, its delivery receipt back in.

Uses runtime.py exactly as `kanal serve` does, with config as config.toml gives it (secrets from
the environment), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest
from sqlmodel import select
from test_sms_parse import fixture

from conftest import FixedClock
from fake_sms_gateway import FakeSmsGateway, deliver, event
from runtime import Runtime, build_runtime
from settings import parse_settings
from store.db import Database
from store.models import Message, OutboxItem, Ticket
from support.kanal_server import kanal_server
from support.waiting import until
from triage.action_requests import Reply

KEY = "e2e-signing-key"
DEVICE = "yVULogr4Y1ksRfnos1Dsw"
REPLY = "Terima kasih, laporan Anda sedang kami periksa. Petugas akan meninjau lokasi besok pagi."
T = TypeVar("T")


@dataclass
class Kanal:
    runtime: Runtime
    db: Database
    url: str
    http: aiohttp.ClientSession
    clock: FixedClock

    async def deliver(self, body: bytes | dict[str, Any]) -> int:
        return await deliver(self.http, self.url, body, key=KEY, at=self.clock())

    async def report(self) -> Ticket:
        assert await self.deliver(fixture("sms_received__sender_recipient")) == 200
        with self.db.read() as session:
            return session.exec(select(Ticket)).one()

    def reply(self, ticket: Ticket) -> None:
        self.runtime.actions.apply(ticket.number, Reply(message=REPLY), actor="operator1")

    def outbound(self) -> Message | None:
        with self.db.read() as session:
            return session.exec(select(Message).where(Message.direction == "out")).first()

    def outbox(self) -> OutboxItem:
        with self.db.read() as session:
            return session.exec(select(OutboxItem)).one()


@pytest.fixture
async def gateway() -> AsyncIterator[FakeSmsGateway]:
    server = await FakeSmsGateway().start()
    yield server
    await server.stop()


@pytest.fixture
async def kanal(
    db: Database,
    tmp_path: Path,
    clock: FixedClock,
    gateway: FakeSmsGateway,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Kanal]:
    monkeypatch.setenv("KANAL_SMS_PASSWORD", gateway.password)
    monkeypatch.setenv("KANAL_SMS_SIGNING_KEY", KEY)
    document: dict[str, Any] = {
        "data_dir": str(tmp_path / "data"),
        "database": {"url": db.url},
        "channels": {
            "sms": {
                "enabled": True,
                "acknowledge": False,  # these tests follow operator replies alone
                "api_base": gateway.api_base,
                "username": gateway.username,
                "password": "env:KANAL_SMS_PASSWORD",
                "signing_key": "env:KANAL_SMS_SIGNING_KEY",
                "device_id": DEVICE,
            }
        },
    }
    settings = parse_settings(document, tmp_path / "config.toml")
    runtime = build_runtime(settings, tmp_path, db, clock=clock)
    async with kanal_server(runtime) as server, aiohttp.ClientSession() as http:
        yield Kanal(runtime, db, str(server.make_url("/webhooks/sms")), http, clock)


async def test_report_reply_and_receipt(
    kanal: Kanal, gateway: FakeSmsGateway, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    ticket = await kanal.report()
    assert (ticket.channel, ticket.account) == ("sms", DEVICE)
    kanal.reply(ticket)

    out = await until(lambda: (m := kanal.outbound()) and m.platform_message_id and m)
    [request] = gateway.requests  # exactly once
    credentials = base64.b64encode(f"{gateway.username}:{gateway.password}".encode()).decode()
    assert request.authorization == f"Basic {credentials}"
    assert request.body == {
        "id": kanal.outbox().idempotency_key,
        "textMessage": {"text": REPLY},
        "phoneNumbers": ["+6281234567890"],
        "deviceId": DEVICE,
    }
    assert out.platform_message_id == request.body["id"]
    assert kanal.outbox().state == "sent"

    receipt = event(
        "sms:delivered",
        {
            "messageId": out.platform_message_id,
            "phoneNumber": "+6281234567890",
            "simNumber": None,
            "deliveredAt": "2026-11-23T09:10:09.000+07:00",
        },
        "Tn5Hq1WcV7yZ3kM9pL2xE",
    )
    assert await kanal.deliver(receipt) == 200
    with kanal.db.read() as session:
        assert session.get(Message, out.id).delivery_state == "delivered"
    assert len(gateway.requests) == 1
    for secret in (gateway.password, KEY, credentials):
        assert secret not in caplog.text


async def test_a_full_phone_queue_is_retried_and_the_reply_goes_once(
    kanal: Kanal, gateway: FakeSmsGateway, clock: FixedClock
) -> None:
    gateway.failures = [503]
    kanal.reply(await kanal.report())
    row = await until(lambda: (r := kanal.outbox()).error_code and r)
    assert (row.state, row.attempts, row.error_code) == ("pending", 1, "http-503")
    assert gateway.sent == []

    clock.advance(timedelta(minutes=1))  # past the outbox's back-off
    kanal.runtime.outbox.wake()
    out = await until(lambda: (m := kanal.outbound()) and m.platform_message_id and m)
    assert [r.body["id"] for r in gateway.requests] == [out.platform_message_id] * 2
    assert [m["textMessage"]["text"] for m in gateway.sent] == [REPLY]


async def test_wrong_gateway_credentials_fail_the_reply_for_good(
    kanal: Kanal, gateway: FakeSmsGateway
) -> None:
    gateway.password = "changed-on-the-phone"
    kanal.reply(await kanal.report())
    out = await until(lambda: (m := kanal.outbound()) and m.delivery_state == "failed" and m)
    assert out.error_code == "http-401"
    assert kanal.outbox().state == "failed"
    assert len(gateway.requests) == 1
    assert json.dumps(gateway.requests[0].body)  # the request itself was well formed
