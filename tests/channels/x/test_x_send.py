"""Replies on X (reply tweet or DM) through tweepy against the local fake X API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from pydantic import ValidationError

from channels.base import OutboundMessage, PlatformError
from channels.x.channel import XChannel, XConfig
from conftest import FixedClock, corpus_dir
from fake_x_api import FakeXApi, load_corpus

ACCOUNT = "1072250532645998596"  # the account of the recorded DM exchanges
REPORTER = "750362064426721281"


@pytest.fixture
async def fake(clock: FixedClock) -> AsyncIterator[FakeXApi]:
    server = await FakeXApi(load_corpus(corpus_dir("twitter")), clock).start()
    yield server
    await server.stop()


@pytest.fixture
async def channel(fake: FakeXApi, tmp_path: Path, clock: FixedClock) -> AsyncIterator[XChannel]:
    async with aiohttp.ClientSession() as http:
        yield XChannel(config_for(fake.api_base, request_timeout="5s"), tmp_path, http, clock)


def config_for(api_base: str, **options: Any) -> XConfig:
    """The account under test, with credentials the fake accepts."""
    return XConfig(
        enabled=True,
        consumer_key="ck",
        consumer_secret="cs",
        access_token="at",
        access_token_secret="ats",
        user_id=ACCOUNT,
        api_base=api_base,
        **options,
    )


def outbound(text: str, reply_to: str | None, **options: str) -> OutboundMessage:
    return OutboundMessage(
        channel="x",
        account=ACCOUNT,
        recipient_id=REPORTER,
        text=text,
        idempotency_key="k1",
        reply_to=reply_to,
        ticket_number="LBP-2026-00001",
        options=options,
    )


async def test_reply_tweet_under_the_reporters_tweet(channel: XChannel, fake: FakeXApi) -> None:
    tweet = fake.mention(ACCOUNT, REPORTER, "@pemkab jalan rusak")
    result = await channel.send(outbound("Laporan diterima: LBP-2026-00001", tweet["id"]))

    (request,) = fake.of("POST", "/2/tweets")
    assert request.auth == "oauth1"
    assert request.body == {
        "text": "Laporan diterima: LBP-2026-00001",
        "reply": {"in_reply_to_tweet_id": tweet["id"]},
    }
    assert result.platform_message_id in fake.tweets
    assert fake.tweets[result.platform_message_id]["conversation_id"] == tweet["id"]


async def test_dm_when_the_operator_chooses_it_or_the_reporter_wrote_by_dm(
    channel: XChannel, fake: FakeXApi
) -> None:
    tweet = fake.mention(ACCOUNT, REPORTER, "@pemkab lampu mati")
    chosen = await channel.send(outbound("Mohon kirim alamat lengkap", tweet["id"], mode="dm"))
    by_dm = await channel.send(outbound("Terima kasih", "dm:1585800613253812228"))

    first, second = fake.of("POST", f"/2/dm_conversations/with/{REPORTER}/messages")
    assert (first.auth, first.body) == ("oauth1", {"text": "Mohon kirim alamat lengkap"})
    assert second.body == {"text": "Terima kasih"}
    assert chosen.platform_message_id.startswith("dm:")
    assert chosen.platform_message_id != by_dm.platform_message_id
    assert not fake.of("POST", "/2/tweets")


async def test_a_429_is_retryable_after_the_reset_and_the_window_is_then_respected(
    channel: XChannel, fake: FakeXApi, clock: FixedClock
) -> None:
    tweet = fake.mention(ACCOUNT, REPORTER, "@pemkab banjir")
    fake.exhaust("tweet_create", reset_in=300)
    with pytest.raises(PlatformError) as first:
        await channel.send(outbound("Sedang kami tangani", tweet["id"]))
    assert (first.value.retryable, first.value.code, first.value.retry_after) == (True, "429", 300)
    with pytest.raises(PlatformError) as second:
        await channel.send(outbound("Sedang kami tangani", tweet["id"]))
    assert second.value.retryable and second.value.retry_after == 300
    assert len(fake.of("POST", "/2/tweets")) == 1  # the second never reached X

    clock.advance(timedelta(seconds=301))
    result = await channel.send(outbound("Sedang kami tangani", tweet["id"]))
    assert result.platform_message_id in fake.tweets
    # DMs have their own window: a used-up tweet window does not hold them back.
    fake.exhaust("tweet_create")
    await channel.send(outbound("Lewat DM", tweet["id"], mode="dm"))


async def test_permanent_refusals_are_shown_to_the_operator(
    channel: XChannel, fake: FakeXApi
) -> None:
    tweet = fake.mention(ACCOUNT, REPORTER, "@pemkab sampah")
    fake.blocked_dm_recipients.add(REPORTER)
    cases = [
        (outbound("Halo", "1"), "403", "deleted or not visible"),
        (outbound("Halo", tweet["id"], mode="dm"), "403", "not permitted to send"),
        (outbound("x" * 281, tweet["id"]), "too_long", "280"),
        (outbound("Halo", "dm:1", mode="reply"), "no_tweet", "DM"),
    ]
    for message, code, words in cases:
        with pytest.raises(PlatformError) as error:
            await channel.send(message)
        assert (error.value.retryable, error.value.code) == (False, code)
        assert words in str(error.value)
    await channel.send(outbound("Balasan pertama", tweet["id"]))
    with pytest.raises(PlatformError) as duplicate:
        await channel.send(outbound("Balasan pertama", tweet["id"]))
    assert (duplicate.value.retryable, duplicate.value.code) == (False, "403")


async def test_an_unreachable_api_is_retryable(tmp_path: Path, clock: FixedClock) -> None:
    config = config_for("http://127.0.0.1:9", request_timeout="2s")
    async with aiohttp.ClientSession() as http:
        channel = XChannel(config, tmp_path, http, clock)
        with pytest.raises(PlatformError) as error:
            await channel.send(outbound("Halo", "123", mode="dm"))
    assert error.value.retryable and error.value.code is None


def test_config_names_the_missing_keys_when_enabled() -> None:
    with pytest.raises(ValidationError) as error:
        XConfig(enabled=True, consumer_key="ck")
    assert "user_id, consumer_secret, access_token, access_token_secret" in str(error.value)
    assert XConfig().enabled is False
    with pytest.raises(ValidationError):
        XConfig(sources=["timeline"])


async def test_the_configured_reply_mode_applies_when_the_operator_picks_none(
    fake: FakeXApi, tmp_path: Path, clock: FixedClock
) -> None:
    tweet = fake.mention(ACCOUNT, REPORTER, "@pemkab data pribadi saya")
    config = config_for(fake.api_base, reply_mode="dm")
    async with aiohttp.ClientSession() as http:
        channel = XChannel(config, tmp_path, http, clock)
        await channel.send(outbound("Kami hubungi lewat DM", tweet["id"]))
        await channel.send(outbound("Balasan publik", tweet["id"], mode="reply"))
    (dm,) = fake.of("POST", f"/2/dm_conversations/with/{REPORTER}/messages")
    (reply,) = fake.of("POST", "/2/tweets")
    assert dm.body == {"text": "Kami hubungi lewat DM"}
    assert reply.body["reply"] == {"in_reply_to_tweet_id": tweet["id"]}


def test_the_fake_answers_writes_in_the_recorded_shape(fake: FakeXApi) -> None:
    recorded = fake.recorded
    assert set(recorded.created_tweet) == {"id", "text"}
    assert set(recorded.created_dm) == {"dm_conversation_id", "dm_event_id"}
    # The recorded conversation id names both users, lower id first, as the fake does.
    assert recorded.created_dm["dm_conversation_id"] == f"{REPORTER}-{ACCOUNT}"
    assert recorded.limits == {
        "mentions": 450,
        "dm_send": 200,
        "dm_lookup": 300,
        "tweet_create": 200,
    }


@pytest.mark.parametrize("recipient", ["../../2/tweets", "750362064426721281/../1", "١٢٣"])
async def test_a_dm_recipient_that_is_no_numeric_id_never_reaches_a_url(
    channel: XChannel, fake: FakeXApi, recipient: str
) -> None:
    message = OutboundMessage(
        channel="x",
        account=ACCOUNT,
        recipient_id=recipient,
        text="Halo",
        idempotency_key="k2",
        reply_to="dm:1585800613253812228",
    )
    with pytest.raises(PlatformError) as refused:
        await channel.send(message)
    assert (refused.value.retryable, refused.value.code) == (False, "bad_id")
    assert fake.of("POST", "/") == []
