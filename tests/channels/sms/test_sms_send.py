"""Replies by SMS against a local SMS Gateway server: the request the gateway documents, with
basic auth, and its refusals as retryable or final PlatformErrors."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest

from channels.base import OutboundMessage, PlatformError
from channels.sms.channel import SmsChannel
from channels.sms.config import SmsConfig
from channels.sms.send import message_id_for
from fake_sms_gateway import FakeSmsGateway

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
KEY = "3f9c1b2a7d6e4f8091a2b3c4d5e6f708"  # an outbox idempotency key (uuid4 hex)
LONG = "Terima kasih atas laporan Anda tentang jalan berlubang di Desa Sukoharjo. " * 6


@pytest.fixture
async def gateway() -> AsyncIterator[FakeSmsGateway]:
    server = await FakeSmsGateway().start()
    yield server
    await server.stop()


def channel_for(
    gateway: FakeSmsGateway, http: aiohttp.ClientSession, **overrides: Any
) -> SmsChannel:
    values = {
        "enabled": True,
        "api_base": gateway.api_base,
        "username": gateway.username,
        "password": gateway.password,
        "signing_key": "k",
        "device_id": "yVULogr4Y1ksRfnos1Dsw",
        "request_timeout": "2s",
    }
    return SmsChannel(SmsConfig.model_validate(values | overrides), http, lambda: NOW)


def reply(text: str = "Laporan Anda sudah kami terima.", **fields: Any) -> OutboundMessage:
    values: dict[str, Any] = {
        "channel": "sms",
        "account": "yVULogr4Y1ksRfnos1Dsw",
        "recipient_id": "6281234567890",
        "recipient_contact": "+6281234567890",
        "text": text,
        "idempotency_key": KEY,
    }
    return OutboundMessage(**(values | fields))


async def test_a_reply_is_the_documented_request_with_basic_auth(
    gateway: FakeSmsGateway, http: aiohttp.ClientSession
) -> None:
    result = await channel_for(gateway, http).send(reply(LONG))
    [request] = gateway.requests
    assert request.path == "/3rdparty/v1/messages"
    credentials = base64.b64encode(b"KANALSMS:fake-gateway-password").decode()
    assert request.authorization == f"Basic {credentials}"
    assert request.body == {
        "id": KEY,
        "textMessage": {"text": LONG},  # whole: the gateway sends it as a multipart SMS
        "phoneNumbers": ["+6281234567890"],
        "deviceId": "yVULogr4Y1ksRfnos1Dsw",
    }
    assert len(LONG) > 160
    assert result.platform_message_id == KEY


async def test_the_phones_own_server_takes_the_same_request(http: aiohttp.ClientSession) -> None:
    local = await FakeSmsGateway(prefix="").start()
    try:
        channel = channel_for(local, http, device_id="")
        assert local.api_base.endswith(str(local.port))
        await channel.send(reply(recipient_contact=None))
        [request] = local.requests
        assert request.path == "/messages"
        assert "deviceId" not in request.body
        assert request.body["phoneNumbers"] == ["+6281234567890"]
    finally:
        await local.stop()


async def test_a_retry_after_a_lost_answer_does_not_send_twice(
    gateway: FakeSmsGateway, http: aiohttp.ClientSession
) -> None:
    channel = channel_for(gateway, http)
    first = await channel.send(reply())
    again = await channel.send(reply())  # the outbox did not hear the first answer
    assert first == again
    assert [r.body["id"] for r in gateway.requests] == [KEY, KEY]
    assert len(gateway.sent) == 1


def test_message_ids_fit_the_gateway() -> None:
    assert message_id_for(KEY) == KEY
    long_key = "digest:2026-11-23:kadis:sms:" + "x" * 40
    made = message_id_for(long_key)
    assert len(made) <= 36 and made == message_id_for(long_key) and made.isalnum()


@pytest.mark.parametrize(
    ("status", "retryable"),
    [(400, False), (401, False), (403, False), (404, False), (429, True), (500, True),
     (502, True), (503, True)],
)  # fmt: skip
async def test_refusals_are_typed_retryable_or_final(
    status: int, retryable: bool, gateway: FakeSmsGateway, http: aiohttp.ClientSession
) -> None:
    gateway.failures = [status]
    with pytest.raises(PlatformError) as caught:
        await channel_for(gateway, http).send(reply())
    assert (caught.value.retryable, caught.value.code) == (retryable, f"http-{status}")
    assert f"SMS Gateway HTTP {status}" in str(caught.value)
    assert gateway.sent == []


async def test_wrong_credentials_are_final(
    gateway: FakeSmsGateway, http: aiohttp.ClientSession
) -> None:
    with pytest.raises(PlatformError) as caught:
        await channel_for(gateway, http, password="wrong").send(reply())
    assert (caught.value.retryable, caught.value.code) == (False, "http-401")
    assert "Unauthorized" in str(caught.value)


async def test_a_number_the_gateway_refuses_is_final(
    gateway: FakeSmsGateway, http: aiohttp.ClientSession
) -> None:
    message = reply(recipient_id="31612", recipient_contact="+31612")  # too short for E.164
    with pytest.raises(PlatformError) as caught:
        await channel_for(gateway, http).send(message)
    assert (caught.value.retryable, caught.value.code) == (False, "http-400")


async def test_an_unreachable_gateway_is_retried(http: aiohttp.ClientSession) -> None:
    gone = await FakeSmsGateway().start()
    await gone.stop()  # its port is free again: the connection is refused
    with pytest.raises(PlatformError) as caught:
        await channel_for(gone, http).send(reply())
    assert caught.value.retryable and "unreachable" in str(caught.value)


async def test_a_reporter_without_a_number_cannot_be_answered(
    gateway: FakeSmsGateway, http: aiohttp.ClientSession
) -> None:
    message = reply(recipient_id="TELKOMSEL", recipient_contact="TELKOMSEL")
    with pytest.raises(PlatformError) as caught:
        await channel_for(gateway, http).send(message)
    assert (caught.value.retryable, caught.value.code) == (False, "not_a_number")
    assert '"TELKOMSEL"' in str(caught.value) and "bukan nomor telepon" in str(caught.value)
    assert gateway.requests == []
