"""Replies on Facebook against the fake Graph: DMs and the window, public and private comments."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from test_facebook_poll import KUN_LIU, POST, SRI, fb_config, rows

from channels.base import OutboundMessage, PlatformError
from channels.meta.facebook import FacebookChannel
from conftest import FixedClock, corpus_dir
from fake_meta_graph import FakeGraph, throttled, token_expired
from fake_meta_graph_seed import FB_PAGE, seed_facebook
from store.db import Database
from store.models import DeliveryReceipt
from triage.intake import Intake

REPLY = "Terima kasih, laporan Anda sudah kami teruskan ke Dinas PUPR."
CITIZEN_COMMENT = "10158407654328553_10158414644018553"  # "Mantap halo....", Warga 14


@pytest.fixture
async def graph(clock: FixedClock) -> AsyncIterator[FakeGraph]:
    fake = await FakeGraph(clock=clock).start()
    seed_facebook(fake, corpus_dir("facebook"), clock())
    yield fake
    await fake.stop()


@pytest.fixture
async def channel(
    graph: FakeGraph, tmp_path: Path, clock: FixedClock
) -> AsyncIterator[FacebookChannel]:
    async with aiohttp.ClientSession() as http:
        yield FacebookChannel(fb_config(graph), tmp_path, http, clock)


def outbound(clock: FixedClock, **fields: Any) -> OutboundMessage:
    values: dict[str, Any] = {
        "channel": "facebook",
        "account": FB_PAGE,
        "recipient_id": SRI,
        "text": REPLY,
        "idempotency_key": "k1",
        "reply_to": "m_SriWahyuni02_lokasi",
        "last_inbound_at": clock() - timedelta(hours=1, minutes=40),
    }
    return OutboundMessage(**(values | fields))


# --- DMs --------------------------------------------------------------------------------------


async def test_a_dm_inside_the_window_goes_out_as_a_response(
    channel: FacebookChannel, graph: FakeGraph, clock: FixedClock, intake: Intake, db: Database
) -> None:
    result = await channel.send(outbound(clock))

    [call] = graph.posted("messages")
    assert call.path == f"/v23.0/{FB_PAGE}/messages"
    assert call.authorization == f"Bearer {graph.access_token}"
    assert call.body == {
        "recipient": {"id": SRI},
        "message": {"text": REPLY},
        "messaging_type": "RESPONSE",
    }
    assert result.platform_message_id == "m_fake1"
    # The next poll sees the Page's own message: a receipt, never a report.
    await channel.poll_once(intake)
    [receipt] = rows(db, DeliveryReceipt, DeliveryReceipt.platform_message_id == "m_fake1")
    assert (receipt.channel, receipt.platform_message_id, receipt.state, receipt.at) == (
        "facebook",
        "m_fake1",
        "sent",
        clock(),
    )


async def test_a_dm_outside_the_window_is_refused_with_a_reason_for_the_operator(
    channel: FacebookChannel, graph: FakeGraph, clock: FixedClock
) -> None:
    with pytest.raises(PlatformError) as raised:
        await channel.send(outbound(clock, last_inbound_at=clock() - timedelta(hours=25)))
    assert raised.value.retryable is False
    assert raised.value.code == "outside_window"
    assert str(raised.value) == (
        "Balasan tidak terkirim: pelapor terakhir menulis di Facebook lebih dari 24 jam yang "
        "lalu, di luar jendela pesan yang diizinkan Facebook. Minta pelapor menulis lagi, atau "
        "hubungi lewat saluran lain."
    )
    assert graph.posted("messages") == []


async def test_with_the_human_agent_tag_a_dm_may_follow_up_to_seven_days(
    graph: FakeGraph, tmp_path: Path, clock: FixedClock
) -> None:
    async with aiohttp.ClientSession() as http:
        channel = FacebookChannel(fb_config(graph, human_agent_tag=True), tmp_path, http, clock)
        late = clock() - timedelta(days=3)
        await channel.send(outbound(clock, recipient_id=KUN_LIU, last_inbound_at=late))
        with pytest.raises(PlatformError) as raised:
            await channel.send(outbound(clock, last_inbound_at=clock() - timedelta(days=8)))
    [call] = graph.posted("messages")
    assert call.body["messaging_type"] == "MESSAGE_TAG"
    assert call.body["tag"] == "HUMAN_AGENT"
    assert "lebih dari 168 jam" in str(raised.value)


async def test_the_platforms_own_window_refusal_is_permanent_and_explained(
    channel: FacebookChannel, graph: FakeGraph, clock: FixedClock
) -> None:
    """Our record says the reporter wrote recently; Graph knows better (code 10/2018278)."""
    clock.advance(timedelta(hours=30))
    with pytest.raises(PlatformError) as raised:
        await channel.send(outbound(clock, last_inbound_at=clock() - timedelta(hours=1)))
    assert (raised.value.retryable, raised.value.code) == (False, "outside_window")
    assert str(raised.value).startswith("Balasan tidak terkirim: pelapor terakhir menulis")
    assert "code 10: (#10) This message is sent outside of allowed window." in str(raised.value)


# --- comments ---------------------------------------------------------------------------------


async def test_a_public_reply_answers_under_the_comment(
    channel: FacebookChannel, graph: FakeGraph, clock: FixedClock, intake: Intake, db: Database
) -> None:
    message = outbound(
        clock,
        recipient_id="581000000000014",
        reply_to=f"comment:{CITIZEN_COMMENT}",
        options={"mode": "public"},
    )
    result = await channel.send(message)

    [call] = graph.posted("comments")
    assert call.path == f"/v23.0/{CITIZEN_COMMENT}/comments"
    assert call.body == {"message": REPLY}
    assert result.platform_message_id.startswith("10158407654328553_9")
    await channel.poll_once(intake)
    receipts = {r.platform_message_id: r.state for r in rows(db, DeliveryReceipt)}
    assert receipts[result.platform_message_id] == "sent"
    assert not any(m for m in graph.posted("messages"))


async def test_a_private_reply_goes_to_the_commenters_inbox_once(
    channel: FacebookChannel, graph: FakeGraph, clock: FixedClock
) -> None:
    message = outbound(
        clock,
        recipient_id="581000000000014",
        reply_to=f"comment:{CITIZEN_COMMENT}",
        options={"mode": "private"},
    )
    result = await channel.send(message)
    [call] = graph.posted("messages")
    assert call.path == f"/v23.0/{FB_PAGE}/messages"
    assert call.body == {"recipient": {"comment_id": CITIZEN_COMMENT}, "message": {"text": REPLY}}
    assert result.platform_message_id == "m_fake1"

    with pytest.raises(PlatformError) as raised:  # Graph allows one private reply per comment
        await channel.send(message)
    assert (raised.value.retryable, raised.value.code) == (False, "10")


async def test_without_a_mode_the_configured_comment_reply_is_used(
    channel: FacebookChannel, graph: FakeGraph, clock: FixedClock
) -> None:
    assert channel.config.comment_reply == "private"
    await channel.send(outbound(clock, reply_to=f"comment:{CITIZEN_COMMENT}"))
    assert [c.body["recipient"] for c in graph.posted("messages")] == [
        {"comment_id": CITIZEN_COMMENT}
    ]
    assert graph.posted("comments") == []


async def test_a_private_reply_after_seven_days_is_refused(
    channel: FacebookChannel, graph: FakeGraph, clock: FixedClock
) -> None:
    old = clock() - timedelta(days=7, minutes=1)
    message = outbound(clock, reply_to=f"comment:{CITIZEN_COMMENT}", last_inbound_at=old)
    with pytest.raises(PlatformError) as raised:
        await channel.send(message)
    assert (raised.value.retryable, raised.value.code) == (False, "outside_window")
    assert "pilih balasan publik" in str(raised.value)
    with pytest.raises(PlatformError) as bad_mode:
        await channel.send(outbound(clock, reply_to=f"comment:{POST}", options={"mode": "dm"}))
    assert bad_mode.value.code == "bad_mode"
    assert graph.posted("messages") == graph.posted("comments") == []


async def test_an_expired_token_on_send_is_permanent_and_stops_the_channel(
    channel: FacebookChannel, graph: FakeGraph, clock: FixedClock
) -> None:
    graph.fail(token_expired())
    with pytest.raises(PlatformError) as raised:
        await channel.send(outbound(clock))
    assert (raised.value.retryable, raised.value.code) == (False, "190")
    assert channel.status.state == "stopped"
    assert "set channels.facebook.access_token" in str(channel.status.alert)


async def test_throttling_on_send_is_retryable_after_the_given_time(
    channel: FacebookChannel, graph: FakeGraph, clock: FixedClock
) -> None:
    graph.fail(throttled(regain_minutes=2))
    with pytest.raises(PlatformError) as raised:
        await channel.send(outbound(clock))
    assert (raised.value.retryable, raised.value.code, raised.value.retry_after) == (
        True,
        "80001",
        120,
    )


async def test_a_dm_over_the_platforms_length_limit_is_refused_with_a_reason(
    channel: FacebookChannel, graph: FakeGraph, clock: FixedClock
) -> None:
    with pytest.raises(PlatformError) as raised:
        await channel.send(outbound(clock, text="a" * 2001))
    assert (raised.value.retryable, raised.value.code) == (False, "too_long")
    assert str(raised.value) == (
        "Balasan terlalu panjang untuk Facebook (2001, batasnya 2000); persingkat balasan."
    )
    comment = f"comment:{CITIZEN_COMMENT}"
    await channel.send(
        outbound(clock, text="a" * 2001, reply_to=comment, options={"mode": "public"})
    )
    assert len(graph.posted("comments")) == 1
    assert graph.posted("messages") == []
