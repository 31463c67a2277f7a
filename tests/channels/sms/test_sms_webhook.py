"""The SMS webhook through HTTP with the real intake, checked in the database (SQLite and
PostgreSQL): signed deliveries become tickets once; forged, unsigned or replayed ones are refused
and leave nothing behind."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlmodel import select
from test_sms_parse import fixture

from channels.sms.channel import SmsChannel
from channels.sms.config import SmsConfig
from conftest import FixedClock
from fake_sms_gateway import deliver, event, signature
from store.db import Database
from store.models import Message, RawEvent, Reporter, Ticket
from triage.intake import Intake

KEY = "sms-signing-key-for-tests"
DEVICE = "yVULogr4Y1ksRfnos1Dsw"


@dataclass
class Phone:
    """Posts deliveries to Kanal as the phone does, signed at the test clock's time."""

    url: str
    http: aiohttp.ClientSession
    clock: FixedClock

    async def post(self, body: bytes | dict[str, Any], **options: Any) -> int:
        options.setdefault("key", KEY)
        options.setdefault("at", self.clock())
        return await deliver(self.http, self.url, body, **options)


def make_config(**overrides: Any) -> SmsConfig:
    values = {
        "enabled": True,
        "api_base": "http://127.0.0.1:9/3rdparty/v1",  # not called: nothing is sent here
        "username": "KANALSMS",
        "password": "gateway-password",
        "signing_key": KEY,
        "device_id": DEVICE,
    }
    return SmsConfig.model_validate(values | overrides)


@pytest.fixture
async def phone(intake: Intake, clock: FixedClock) -> AsyncIterator[Phone]:
    async with phone_for(intake, clock) as posting:
        yield posting


@asynccontextmanager
async def phone_for(intake: Intake, clock: FixedClock, **config: Any) -> AsyncIterator[Phone]:
    """An SMS channel (its config changed by `config`) serving its webhook on a local port."""
    async with aiohttp.ClientSession() as http:
        channel = SmsChannel(make_config(**config), http, clock)
        await channel.start(intake)
        app = web.Application()
        app.router.add_routes(channel.routes())
        server = TestServer(app)
        await server.start_server()
        try:
            yield Phone(str(server.make_url("/webhooks/sms")), http, clock)
        finally:
            await server.close()
            await channel.stop()


def rows(db: Database, model: Any) -> list[Any]:
    with db.read() as session:
        return list(session.exec(select(model).order_by(model.id)))


async def test_a_signed_sms_becomes_a_ticket(phone: Phone, db: Database) -> None:
    body = fixture("sms_received__sender_recipient")
    assert await phone.post(body) == 200

    [ticket] = rows(db, Ticket)
    [message] = rows(db, Message)
    [reporter] = rows(db, Reporter)
    [raw] = rows(db, RawEvent)
    sent = json.loads(body)
    assert (ticket.channel, ticket.account, ticket.status) == ("sms", DEVICE, "new")
    assert (message.channel, message.direction, message.ticket_id) == ("sms", "in", ticket.id)
    assert message.external_id == sent["id"]
    assert message.text == sent["payload"]["message"]
    assert (reporter.sender_id, reporter.contact) == ("6281234567890", "+6281234567890")
    assert (raw.channel, raw.kind, raw.payload, raw.error) == ("sms", "message", sent, None)


async def test_a_repeated_delivery_is_stored_once(phone: Phone, db: Database) -> None:
    body = fixture("sms_received__national_number")
    assert await phone.post(body) == 200
    phone.clock.advance(timedelta(seconds=10))  # the phone's retry: same body, a new timestamp
    assert await phone.post(body) == 200
    assert len(rows(db, RawEvent)) == len(rows(db, Message)) == len(rows(db, Ticket)) == 1


async def test_the_same_text_in_two_deliveries_is_kept_twice(phone: Phone, db: Database) -> None:
    """messageId repeats for the same text; the delivery id does not."""
    first = json.loads(fixture("sms_received__national_number"))
    second = first | {"id": "Wq4Er8Ty2Ui6Op0As3Df7"}
    assert await phone.post(first) == 200
    assert await phone.post(second) == 200
    assert [m.external_id for m in rows(db, Message)] == [first["id"], second["id"]]
    assert len(rows(db, Ticket)) == 1  # the reporter's open ticket takes the second


@pytest.mark.parametrize(
    ("options", "why"),
    [
        ({"key": None}, "no signature, no timestamp"),
        ({"key": "another-phone's-key"}, "signed with another key"),
        ({"headers": {"X-Signature": "0" * 64}}, "a made-up signature"),
        ({"headers": {"X-Signature": "é" * 64}}, "a signature that is not hex"),
        ({"headers": {"X-Timestamp": "1700000000"}}, "the timestamp changed after signing"),
        ({"at_offset": timedelta(minutes=6)}, "signed six minutes ago"),
        ({"at_offset": -timedelta(minutes=6)}, "signed six minutes from now"),
    ],
)
async def test_a_delivery_not_signed_now_by_our_phone_is_refused(
    options: dict[str, Any], why: str, phone: Phone, db: Database
) -> None:
    offset = options.pop("at_offset", None)
    if offset is not None:
        options["at"] = phone.clock() - offset
    assert await phone.post(fixture("sms_received__sender_recipient"), **options) == 401, why
    assert rows(db, RawEvent) == rows(db, Message) == rows(db, Ticket) == []


async def test_a_delivery_signed_without_a_timestamp_is_refused(phone: Phone, db: Database) -> None:
    body = fixture("sms_received__sender_recipient")
    headers = {"X-Signature": signature(body, "", KEY)}  # the HMAC of the body alone
    async with phone.http.post(phone.url, data=body, headers=headers) as response:
        assert response.status == 401
    assert rows(db, RawEvent) == []


async def test_a_delivery_within_the_allowed_skew_is_taken(phone: Phone, db: Database) -> None:
    at = phone.clock() - timedelta(minutes=4, seconds=59)
    assert await phone.post(fixture("sms_received__sender_recipient"), at=at) == 200
    assert len(rows(db, Ticket)) == 1


@pytest.mark.parametrize(
    "name", ["system_ping__docs", "sms_sent__docs", "sms_delivered__docs", "sms_failed__docs"]
)
async def test_other_events_are_acknowledged_without_a_ticket(
    name: str, phone: Phone, db: Database
) -> None:
    assert await phone.post(fixture(name)) == 200
    assert rows(db, Ticket) == rows(db, Message) == []
    kinds = [raw.kind for raw in rows(db, RawEvent)]
    assert kinds == ([] if name.startswith("system_ping") else ["status"])


async def test_an_event_kanal_does_not_read_is_kept_with_its_reason(
    phone: Phone, db: Database
) -> None:
    body = fixture("sms_data-received__docs")
    assert await phone.post(body) == 200
    [raw] = rows(db, RawEvent)
    assert (raw.kind, raw.payload) == ("event:sms:data-received", json.loads(body))
    assert raw.error == "event 'sms:data-received' is not handled"
    assert rows(db, Ticket) == []


async def test_malformed_deliveries_are_kept_as_unreadable(
    phone: Phone, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="channels.sms.channel")
    truncated = fixture("sms_received__sender_recipient")[:-20]
    no_sender = event("sms:received", {"message": "Jalan rusak"}, "Nq1Ws2Ex3Rc4Tv5Yb6Un7")
    no_text = event(
        "sms:received",
        {"phoneNumber": "+6281234567890", "receivedAt": "2026-11-23T08:00:00+07:00"},
        "Mk8Ij9Uh0Yg1Tf2Rd3Es4",
    )
    for body in (truncated, no_sender, no_text):
        assert await phone.post(body) == 200

    raws = rows(db, RawEvent)
    assert [(r.kind, r.error is not None) for r in raws] == [
        ("invalid_json", True),
        ("sms:received:unreadable", True),
        ("message", True),
    ]
    [message] = rows(db, Message)  # the one with a sender opens a ticket, with a notice
    assert (message.text, message.notice) == ("", "unreadable")
    assert message.parse_error == "the payload has no message text"
    assert len(rows(db, Ticket)) == 1
    for raw in raws:
        assert f"external_id={raw.external_id}: " in caplog.text


async def test_an_oversized_body_is_refused(
    intake: Intake, clock: FixedClock, db: Database
) -> None:
    async with phone_for(intake, clock, max_body_bytes=64) as phone:
        assert await phone.post(fixture("sms_received__sender_recipient")) == 413
    assert rows(db, RawEvent) == []


def test_the_channel_needs_its_credentials_when_enabled() -> None:
    with pytest.raises(ValueError, match=r"required when the channel is enabled: .*signing_key"):
        make_config(signing_key="")
    assert SmsConfig().account == ""
    assert make_config(device_id="").account == "KANALSMS"
    assert "gateway-password" not in repr(make_config()) + repr(make_config().password)


async def test_a_delivery_the_database_cannot_hold_as_sent_is_kept_not_a_500(
    phone: Phone, db: Database
) -> None:
    nul_text = event(
        "sms:received",
        {"phoneNumber": "+6281234567890", "message": "Jalan\u0000rusak \ud800",
         "receivedAt": "2026-11-23T08:00:00+07:00"},
        "Pz9Ox8Iy7Uw6Tv5Sr4Qp3",
    )  # fmt: skip
    long_id = event("sms:received", {"phoneNumber": "+6281234567890", "message": "x"}, "i" * 600)
    assert await phone.post(json.dumps(nul_text).encode()) == 200
    assert await phone.post(long_id) == 200
    assert len(rows(db, RawEvent)) == 2
    assert all(m.external_id != "i" * 600 for m in rows(db, Message))
