"""Sending on WhatsApp against the fake Cloud API: the window, the template, every error class."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from channels.base import Channel, Choice, OutboundMessage, PlatformError
from channels.whatsapp.channel import WhatsAppChannel, WhatsAppConfig
from conftest import FixedClock
from fake_whatsapp_cloud import (
    INVALID_PARAMETER,
    PAIR_RATE_LIMIT,
    RATE_LIMIT_429,
    RE_ENGAGEMENT,
    SERVER_ERROR,
    THROUGHPUT_400,
    TOKEN_EXPIRED,
    UNDELIVERABLE,
    Failure,
    FakeWhatsAppCloud,
)

PNID = "106540352242922"
REPORTER = "6281234567890"
REPLY = "Terima kasih, laporan LBP-2026-00042 sudah kami teruskan ke DPUPR Kabupaten Pati."


@pytest.fixture
async def fake() -> AsyncIterator[FakeWhatsAppCloud]:
    server = await FakeWhatsAppCloud().start()
    yield server
    await server.stop()


def channel_for(
    fake: FakeWhatsAppCloud,
    http: aiohttp.ClientSession,
    clock: FixedClock,
    tmp_path: Path,
    **overrides: Any,
) -> WhatsAppChannel:
    values: dict[str, Any] = {
        "enabled": True,
        "verify_token": "v",
        "app_secret": "s",
        "access_token": fake.access_token,
        "phone_number_id": PNID,
        "api_base": fake.api_base,
        "template_name": "balasan_aduan",
    }
    return WhatsAppChannel(WhatsAppConfig.model_validate(values | overrides), tmp_path, http, clock)


@pytest.fixture
def wa(
    fake: FakeWhatsAppCloud, http: aiohttp.ClientSession, clock: FixedClock, tmp_path: Path
) -> WhatsAppChannel:
    return channel_for(fake, http, clock, tmp_path)


def reply(clock: FixedClock, since: timedelta | None, **fields: Any) -> OutboundMessage:
    values: dict[str, Any] = {
        "channel": "whatsapp",
        "account": PNID,
        "recipient_id": REPORTER,
        "text": REPLY,
        "idempotency_key": "3f9a0c1e6b7d4e2a9c8b7a6f5e4d3c2b",
        "last_inbound_at": None if since is None else clock() - since,
    }
    return OutboundMessage(**(values | fields))


def test_the_channel_meets_the_protocol(wa: WhatsAppChannel) -> None:
    assert isinstance(wa, Channel)
    assert (wa.name, wa.account) == ("whatsapp", PNID)


async def test_inside_the_window_a_free_text_reply_quotes_the_report(
    wa: WhatsAppChannel, fake: FakeWhatsAppCloud, clock: FixedClock
) -> None:
    message = reply(clock, timedelta(hours=23, minutes=59), reply_to="wamid.HBgNNjI4MTIzNDU2")
    result = await wa.send(message)

    assert result.platform_message_id == "wamid.FAKE00000001"
    [received] = fake.received
    assert (received.method, received.path) == ("POST", f"/v23.0/{PNID}/messages")
    assert received.authorization == f"Bearer {fake.access_token}"
    assert received.body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": REPORTER,
        "type": "text",
        "text": {"preview_url": False, "body": REPLY},
        "context": {"message_id": "wamid.HBgNNjI4MTIzNDU2"},
        "biz_opaque_callback_data": "3f9a0c1e6b7d4e2a9c8b7a6f5e4d3c2b",
    }


QUESTION = "Apakah masalah pada laporan LBP-2026-00042 sudah beres? Balas SUDAH atau BELUM."
BUTTONS = (
    Choice("checkback:pleased", "Sudah beres, puas"),
    Choice("checkback:displeased", "Beres, tidak puas"),
    Choice("checkback:not_fixed", "Belum beres"),
)


async def test_choices_go_as_reply_buttons_inside_the_window(
    wa: WhatsAppChannel, fake: FakeWhatsAppCloud, clock: FixedClock
) -> None:
    message = reply(clock, timedelta(hours=2), text=QUESTION, choices=BUTTONS, reply_to="wamid.A")
    assert (await wa.send(message)).platform_message_id == "wamid.FAKE00000001"
    assert fake.sent == [
        {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": REPORTER,
            "type": "interactive",
            "interactive": {
                "type": "button",
                "body": {"text": QUESTION},
                "action": {
                    "buttons": [
                        {
                            "type": "reply",
                            "reply": {"id": "checkback:pleased", "title": "Sudah beres, puas"},
                        },
                        {
                            "type": "reply",
                            "reply": {"id": "checkback:displeased", "title": "Beres, tidak puas"},
                        },
                        {
                            "type": "reply",
                            "reply": {"id": "checkback:not_fixed", "title": "Belum beres"},
                        },
                    ]
                },
            },
            "context": {"message_id": "wamid.A"},
            "biz_opaque_callback_data": "3f9a0c1e6b7d4e2a9c8b7a6f5e4d3c2b",
        }
    ]


@pytest.mark.parametrize(
    "choices",
    [
        (*BUTTONS, Choice("more", "Lainnya")),  # four: WhatsApp takes three
        (Choice("long", "Sudah beres, puas sekali"),),  # a title over 20 characters
        (Choice("x" * 257, "Ya"),),  # an id over 256
    ],
    ids=["four-buttons", "long-title", "long-id"],
)
async def test_choices_whatsapp_cannot_show_leave_the_text_alone(
    choices: tuple[Choice, ...], wa: WhatsAppChannel, fake: FakeWhatsAppCloud, clock: FixedClock
) -> None:
    """The question says how to answer in words, so it goes as plain text instead."""
    await wa.send(reply(clock, timedelta(hours=2), text=QUESTION, choices=choices))
    assert fake.sent[0]["type"] == "text"
    assert fake.sent[0]["text"]["body"] == QUESTION


async def test_a_long_body_or_a_closed_window_sends_no_buttons(
    wa: WhatsAppChannel, fake: FakeWhatsAppCloud, clock: FixedClock
) -> None:
    await wa.send(reply(clock, timedelta(hours=2), text="a" * 1025, choices=BUTTONS))
    await wa.send(reply(clock, timedelta(hours=30), text=QUESTION, choices=BUTTONS))
    assert [body["type"] for body in fake.sent] == ["text", "template"]


def interactive(body: str, buttons: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "to": REPORTER,
        "type": "interactive",
        "interactive": {
            "type": "button",
            "body": {"text": body},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": ident, "title": title}}
                    for ident, title in buttons
                ]
            },
        },
    }


@pytest.mark.parametrize(
    ("body", "details"),
    [
        (
            interactive("Q", [("a", "A"), ("b", "B"), ("c", "C"), ("d", "D")]),
            "Invalid buttons count. Min allowed buttons: 1, Max allowed buttons: 3",
        ),
        (
            interactive("Q", []),
            "Invalid buttons count. Min allowed buttons: 1, Max allowed buttons: 3",
        ),
        (
            interactive("Q", [("a", "x" * 21)]),
            "Button title length invalid. Min length: 1, Max length: 20",
        ),
        (
            interactive("Q", [("x" * 257, "A")]),
            "Button id length invalid. Min length: 1, Max length: 256",
        ),
        (
            interactive("x" * 1025, [("a", "A")]),
            "Body text length invalid. Min length: 1, Max length: 1024",
        ),
    ],
    ids=["four", "none", "title", "id", "body"],
)
async def test_the_fake_refuses_interactive_sends_past_the_limits_as_graph_does(
    body: dict[str, Any], details: str, fake: FakeWhatsAppCloud
) -> None:
    headers = {"Authorization": f"Bearer {fake.access_token}"}
    async with aiohttp.ClientSession() as session:
        url = f"{fake.api_base}/{PNID}/messages"
        async with session.post(url, json=body, headers=headers) as resp:
            assert resp.status == 400
            error = (await resp.json())["error"]
    assert (error["code"], error["type"], error["message"]) == (
        131009,
        "OAuthException",
        "(#131009) Parameter value is not valid",
    )
    assert error["error_data"] == {"messaging_product": "whatsapp", "details": details}
    assert fake.sent == []


async def test_a_reporter_known_only_by_username_is_sent_to_by_user_id(
    wa: WhatsAppChannel, fake: FakeWhatsAppCloud, clock: FixedClock
) -> None:
    await wa.send(reply(clock, timedelta(minutes=5), recipient_id="ID.1349120865530274"))
    [body] = fake.sent
    assert body["recipient"] == "ID.1349120865530274"
    assert "to" not in body


@pytest.mark.parametrize("since", [timedelta(hours=24), timedelta(days=3), None])
async def test_outside_the_window_the_approved_template_carries_the_text(
    since: timedelta | None, wa: WhatsAppChannel, fake: FakeWhatsAppCloud, clock: FixedClock
) -> None:
    text = "Laporan LBP-2026-00042:\n\nmohon kirim   foto lokasi."
    result = await wa.send(reply(clock, since, text=text))

    assert result.platform_message_id == "wamid.FAKE00000001"
    assert fake.sent == [
        {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": REPORTER,
            "type": "template",
            "template": {
                "name": "balasan_aduan",
                "language": {"code": "id"},
                "components": [
                    {
                        "type": "body",
                        # Template parameters may not hold line breaks or runs of spaces.
                        "parameters": [
                            {
                                "type": "text",
                                "text": "Laporan LBP-2026-00042: mohon kirim foto lokasi.",
                            }
                        ],
                    }
                ],
            },
            "biz_opaque_callback_data": "3f9a0c1e6b7d4e2a9c8b7a6f5e4d3c2b",
        }
    ]


async def test_the_template_language_comes_from_config(
    fake: FakeWhatsAppCloud, http: aiohttp.ClientSession, clock: FixedClock, tmp_path: Path
) -> None:
    wa = channel_for(fake, http, clock, tmp_path, template_language="en")
    await wa.send(reply(clock, None))
    assert fake.sent[0]["template"]["language"] == {"code": "en"}


async def test_outside_the_window_without_a_template_nothing_is_sent(
    fake: FakeWhatsAppCloud, http: aiohttp.ClientSession, clock: FixedClock, tmp_path: Path
) -> None:
    wa = channel_for(fake, http, clock, tmp_path, template_name="")
    with pytest.raises(PlatformError) as caught:
        await wa.send(reply(clock, timedelta(hours=25)))
    assert (caught.value.code, caught.value.retryable) == ("131047", False)
    assert "24-hour window" in str(caught.value)
    assert fake.received == []


@pytest.mark.parametrize(
    ("failure", "code", "retryable", "retry_after"),
    [
        (RATE_LIMIT_429, "130429", True, 2.0),
        (THROUGHPUT_400, "130429", True, None),
        (PAIR_RATE_LIMIT, "131056", True, None),
        (Failure(400, 131048, "(#131048) Spam rate limit hit"), "131048", True, None),
        (Failure(400, 80007, "(#80007) Rate limit issues"), "80007", True, None),
        (Failure(400, 4, "(#4) Application request limit reached"), "4", True, None),
        (SERVER_ERROR, "131000", True, None),
        (Failure(503, 2, "Service temporarily unavailable", retry_after="30"), "2", True, 30.0),
        (RE_ENGAGEMENT, "131047", False, None),
        (UNDELIVERABLE, "131026", False, None),
        (INVALID_PARAMETER, "100", False, None),
        (Failure(400, 131062, "(#131062) BSUID recipients not supported"), "131062", False, None),
        (TOKEN_EXPIRED, "190", False, None),
        (Failure(400, 132001, "(#132001) Template name does not exist"), "132001", False, None),
        (Failure(400, 999999, "(#999999) Some future client error"), "999999", False, None),
        (Failure(502, 999999, "Some future server error"), "999999", True, None),
    ],
    ids=lambda v: str(v.code) + "-" + str(v.status) if isinstance(v, Failure) else None,
)
async def test_graph_errors_are_typed_by_their_code(
    failure: Failure,
    code: str,
    retryable: bool,
    retry_after: float | None,
    wa: WhatsAppChannel,
    fake: FakeWhatsAppCloud,
    clock: FixedClock,
) -> None:
    fake.fail_next(failure)
    with pytest.raises(PlatformError) as caught:
        await wa.send(reply(clock, timedelta(hours=1)))
    error = caught.value
    assert (error.code, error.retryable, error.retry_after) == (code, retryable, retry_after)
    assert failure.message in str(error)
    assert f"HTTP {failure.status}" in str(error)
    # The next attempt goes through: the failure was the platform's answer, not our state.
    result = await wa.send(reply(clock, timedelta(hours=1)))
    assert result.platform_message_id == "wamid.FAKE00000001"
    assert len(fake.received) == 2


async def test_a_wrong_token_is_a_permanent_error(
    fake: FakeWhatsAppCloud, http: aiohttp.ClientSession, clock: FixedClock, tmp_path: Path
) -> None:
    wa = channel_for(fake, http, clock, tmp_path, access_token="revoked-token")
    with pytest.raises(PlatformError) as caught:
        await wa.send(reply(clock, timedelta(hours=1)))
    assert (caught.value.code, caught.value.retryable) == ("190", False)
    assert fake.sent == []
    assert "revoked-token" not in str(caught.value) and "revoked-token" not in repr(caught.value)


async def test_an_unreachable_api_is_retryable(
    http: aiohttp.ClientSession, clock: FixedClock, tmp_path: Path
) -> None:
    server = await FakeWhatsAppCloud().start()
    await server.stop()  # its port is now closed
    wa = channel_for(server, http, clock, tmp_path)
    with pytest.raises(PlatformError) as caught:
        await wa.send(reply(clock, timedelta(hours=1)))
    assert (caught.value.retryable, caught.value.code) == (True, None)


async def test_a_200_without_a_message_id_is_not_retried(
    wa: WhatsAppChannel, fake: FakeWhatsAppCloud, clock: FixedClock
) -> None:
    """The message may have gone out: retrying could send it twice."""
    fake.fail_next(Failure(200, 0, "unused"))
    with pytest.raises(PlatformError) as caught:
        await wa.send(reply(clock, timedelta(hours=1)))
    assert caught.value.retryable is False


async def test_the_fake_refuses_sends_without_the_token(fake: FakeWhatsAppCloud) -> None:
    async with aiohttp.ClientSession() as session:
        url = f"{fake.api_base}/{PNID}/messages"
        async with session.post(url, json={"messaging_product": "whatsapp"}) as resp:
            assert resp.status == 401
            error = (await resp.json())["error"]
    assert (error["code"], error["type"]) == (190, "OAuthException")
    assert fake.sent == []


def test_an_enabled_channel_needs_its_secrets() -> None:
    with pytest.raises(ValueError, match="app_secret, access_token, phone_number_id"):
        WhatsAppConfig.model_validate({"enabled": True, "verify_token": "v"})
    assert WhatsAppConfig().enabled is False  # the default config.toml runs without any


async def test_the_fake_enforces_graph_throughput_and_pair_limits(
    http: aiohttp.ClientSession, clock: FixedClock, tmp_path: Path
) -> None:
    now = [100.0]
    fake = await FakeWhatsAppCloud(clock=lambda: now[0]).start()
    try:
        wa = channel_for(fake, http, clock, tmp_path)
        fake.throughput_limit, fake.pair_interval = 2, 6.0
        inside = timedelta(hours=1)
        await wa.send(reply(clock, inside, recipient_id="6281111111111"))
        await wa.send(reply(clock, inside, recipient_id="6282222222222"))
        with pytest.raises(PlatformError) as too_fast:
            await wa.send(reply(clock, inside, recipient_id="6283333333333"))
        assert (too_fast.value.code, too_fast.value.retryable) == ("130429", True)
        now[0] += 1.0  # the next second
        with pytest.raises(PlatformError) as same_user:
            await wa.send(reply(clock, inside, recipient_id="6281111111111"))
        assert (same_user.value.code, same_user.value.retryable) == ("131056", True)
        now[0] += 6.0
        await wa.send(reply(clock, inside, recipient_id="6281111111111"))
        sent_to = [body["to"] for body in fake.sent]
        assert sent_to == ["6281111111111", "6282222222222", "6281111111111"]
    finally:
        await fake.stop()
