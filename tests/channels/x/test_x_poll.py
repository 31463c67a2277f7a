"""The X poller (tweepy against the local fake X API) through the real intake, on both databases."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlmodel import col, select

from channels.base import IntakeUnavailable
from channels.x.channel import XChannel, XConfig
from channels.x.parse import snowflake_time
from conftest import FixedClock, corpus_dir
from fake_x_api import FakeXApi, load_corpus
from store.db import Database
from store.models import Attachment, Message, PollCursor, RawEvent, Reporter, Ticket
from support.health import HealthLog
from support.waiting import until as wait_for
from triage.intake import Intake

ACCOUNT = "783214"  # the account whose mentions the corpus recorded
ALICE, BUDI = "1500000000000000001", "1500000000000000002"
PHOTO = b"\xff\xd8\xff\xe0" + b"jalan berlubang" * 64


def x_config(fake: FakeXApi, **overrides: object) -> XConfig:
    values: dict[str, object] = {
        "enabled": True,
        "bearer_token": "AAAA-bearer",
        "consumer_key": "ck",
        "consumer_secret": "cs",
        "access_token": "at",
        "access_token_secret": "ats",
        "user_id": ACCOUNT,
        "poll_interval": "50ms",
        "page_size": 5,
        "api_base": fake.api_base,
        "request_timeout": "5s",
    }
    values.update(overrides)
    return XConfig.model_validate(values)


@pytest.fixture
async def fake(clock: FixedClock) -> AsyncIterator[FakeXApi]:
    server = await FakeXApi(load_corpus(corpus_dir("twitter")), clock).start()
    server.add_user(ALICE, "alice_pati", "Alice Rahayu")
    server.add_user(BUDI, "budi.kayen", "Budi Santoso")
    yield server
    await server.stop()


@pytest.fixture
async def make_channel(
    fake: FakeXApi, http: aiohttp.ClientSession, tmp_path: Path, clock: FixedClock
) -> AsyncIterator[Callable[..., XChannel]]:
    made: list[XChannel] = []

    def make(**overrides: object) -> XChannel:
        channel = XChannel(x_config(fake, **overrides), tmp_path, http, clock)
        made.append(channel)
        return channel

    yield make
    for channel in made:  # stop() is idempotent: a test that failed midway leaves none running
        await channel.stop()


def created(snowflake: str) -> datetime:
    """X's created_at: the time inside the id, to the second (".000Z")."""
    return snowflake_time(snowflake).replace(microsecond=0)


def cursor(db: Database, name: str) -> str | None:
    with db.read() as session:
        row = session.get(PollCursor, ("x", ACCOUNT, name))
        return row.value if row else None


def photo_state(db: Database) -> str | None:
    """"pending" while any attachment waits for its fetch."""
    with db.read() as session:
        states = session.exec(select(Attachment.fetch_state)).all()
    return "pending" if "pending" in states else "done"


def messages(db: Database) -> list[Message]:
    with db.read() as session:
        return list(session.exec(select(Message).order_by(col(Message.id))).all())


def message(db: Database, external_id: str) -> Message:
    with db.read() as session:
        return session.exec(select(Message).where(Message.external_id == external_id)).one()


async def test_corpus_mentions_become_tickets_page_by_page(
    db: Database, intake: Intake, fake: FakeXApi, make_channel: Callable[..., XChannel]
) -> None:
    recorded = fake.seed_corpus_mentions([ALICE, BUDI])
    channel = make_channel(sources=["mentions"], lookback="5000d")  # recorded in 2022
    await channel.start(intake)
    try:
        await wait_for(lambda: cursor(db, "mentions") is not None)
    finally:
        await channel.stop()

    # Both recordings of user 783214's mentions; the newest is the async one's meta.newest_id.
    assert len(recorded) == 12
    assert cursor(db, "mentions") == "1578522401263919106"
    stored = {m.external_id: m for m in messages(db)}
    assert sorted(stored) == sorted(t["id"] for t in recorded)
    with db.read() as session:
        reporters = {r.id: r for r in session.exec(select(Reporter)).all()}
        tickets = {t.id: t for t in session.exec(select(Ticket)).all()}
    for tweet in recorded:
        row = stored[tweet["id"]]
        assert (row.channel, row.account, row.direction) == ("x", ACCOUNT, "in")
        assert row.sender_id == tweet["author_id"]
        assert row.text == tweet["text"]
        assert row.sent_at == created(tweet["id"])
        assert (row.reply_to, row.references, row.parse_error) == (None, [], None)
        reporter = reporters[tickets[row.ticket_id].reporter_id]
        expected = ("Alice Rahayu", "@alice_pati") if tweet["author_id"] == ALICE else (
            "Budi Santoso", "@budi.kayen"
        )
        assert (reporter.sender_id, reporter.display_name, reporter.contact) == (
            tweet["author_id"], *expected
        )
    # One open ticket per reporter: later mentions of the same author join it.
    assert sorted(t.message_count for t in tickets.values()) == [6, 6]
    assert {t.channel for t in tickets.values()} == {"x"}

    first, second, third = fake.of("GET", f"/2/users/{ACCOUNT}/mentions")[:3]
    assert "since_id" not in first.query and "pagination_token" not in first.query
    assert first.query["max_results"] == "5"
    assert first.auth == "bearer"
    assert set(first.query["tweet.fields"].split(",")) >= {
        "author_id", "conversation_id", "referenced_tweets", "created_at", "attachments"
    }
    assert set(first.query["expansions"].split(",")) == {
        "author_id", "referenced_tweets.id", "attachments.media_keys"
    }
    assert (second.query["pagination_token"], third.query["pagination_token"]) == ("pg5", "pg10")


async def test_new_mentions_since_the_cursor_and_replies_join_the_ticket(
    db: Database, intake: Intake, fake: FakeXApi, make_channel: Callable[..., XChannel],
    tmp_path: Path,
) -> None:
    root = fake.mention(
        ACCOUNT, ALICE, "@pemkab Jalan di Desa Kayen berlubang", photo=PHOTO, video=True
    )
    channel = make_channel(sources=["mentions"])
    await channel.start(intake)
    try:
        await wait_for(lambda: cursor(db, "mentions") == root["id"])
        reply = fake.mention(ACCOUNT, ALICE, "@pemkab ini fotonya lagi", reply_to=root["id"])
        other = fake.mention(ACCOUNT, BUDI, "@pemkab lampu jalan mati", reply_to=None)
        await wait_for(lambda: cursor(db, "mentions") == other["id"])
        await wait_for(lambda: photo_state(db) != "pending")  # fetched after the commit
    finally:
        await channel.stop()

    later = [r for r in fake.of("GET", "/2/users/") if r.query.get("since_id")]
    assert later and all(r.query["since_id"] in (root["id"], other["id"]) for r in later)
    first, joined, separate = (message(db, t["id"]) for t in (root, reply, other))
    assert joined.ticket_id == first.ticket_id != separate.ticket_id
    assert (joined.reply_to, joined.references) == (root["id"], [])
    assert joined.sent_at == created(reply["id"])
    with db.read() as session:
        query = select(Attachment).where(Attachment.message_id == first.id)
        photo, video = session.exec(query.order_by(col(Attachment.position))).all()
    assert (video.kind, video.media_ref) == ("video", f"7_{root['id']}")
    assert video.fetch_state == "failed"
    assert video.fetch_error == "only photos are downloaded from X; see the post on X"
    digest = hashlib.sha256(PHOTO).hexdigest()
    assert photo.kind == "image"
    assert photo.media_ref == f"{fake.api_base}/media/3_{root['id']}.jpg"
    assert (photo.fetch_state, photo.sha256, photo.size) == ("stored", digest, len(PHOTO))
    assert photo.mime_type == "image/jpeg"
    assert photo.stored_path == f"media/x/{digest[:2]}/{digest}.jpg"
    assert (tmp_path / photo.stored_path).read_bytes() == PHOTO
    assert len(messages(db)) == 3  # nothing read twice


async def test_dms_join_the_reporters_ticket_and_our_own_are_left_out(
    db: Database, intake: Intake, fake: FakeXApi, make_channel: Callable[..., XChannel]
) -> None:
    root = fake.mention(ACCOUNT, ALICE, "@pemkab sampah menumpuk di pasar")
    recorded = fake.seed_corpus_dms(ACCOUNT, ALICE)
    ours = fake.dm(ACCOUNT, ACCOUNT, "Terima kasih, laporan Anda kami terima")
    channel = make_channel(lookback="5000d")  # the recorded DMs are from 2022
    await channel.start(intake)
    try:
        await wait_for(lambda: cursor(db, "dms") == ours["id"])
        await wait_for(lambda: cursor(db, "mentions") == root["id"])
        later = fake.dm(ACCOUNT, ALICE, "Lokasinya di depan pasar Kayen")
        await wait_for(lambda: cursor(db, "dms") == later["id"])
    finally:
        await channel.stop()

    ticket = message(db, root["id"]).ticket_id
    conversation = f"dm:{ACCOUNT}-{ALICE}"  # X names a 1:1 conversation lower id first
    for event in [*recorded, later]:
        row = message(db, f"dm:{event['id']}")
        assert (row.ticket_id, row.sender_id, row.text) == (ticket, ALICE, event["text"])
        assert row.sent_at == created(event["id"])
        assert (row.reply_to, row.references) == (None, [conversation])
    assert not [m for m in messages(db) if m.external_id == f"dm:{ours['id']}"]
    lookups = fake.of("GET", "/2/dm_events")
    assert all(r.auth == "oauth1" for r in lookups)
    assert lookups[0].query["event_types"] == "MessageCreate"
    assert "sender_id" in lookups[0].query["dm_event.fields"].split(",")


async def test_rate_limited_mentions_wait_for_the_reset_while_dms_go_on(
    db: Database, intake: Intake, fake: FakeXApi, make_channel: Callable[..., XChannel],
    clock: FixedClock,
) -> None:
    fake.exhaust("mentions", reset_in=600)
    fake.mention(ACCOUNT, ALICE, "@pemkab tolong jalan rusak")
    channel = make_channel()
    channel.health = HealthLog()
    await channel.start(intake)
    try:
        first_dm = fake.dm(ACCOUNT, BUDI, "Halo admin")
        await wait_for(lambda: cursor(db, "dms") == first_dm["id"])
        second_dm = fake.dm(ACCOUNT, BUDI, "Masih ada?")
        await wait_for(lambda: cursor(db, "dms") == second_dm["id"])
        # The 429 was answered once and not asked again before the reset X named.
        assert len(fake.of("GET", "/2/users/")) == 1
        assert cursor(db, "mentions") is None
        health = channel.polling.sources["mentions"]
        assert health.failing and health.retry_at == clock() + timedelta(seconds=600)
        clock.advance(timedelta(seconds=601))
        await wait_for(lambda: cursor(db, "mentions") is not None)
    finally:
        await channel.stop()
    assert len(fake.of("GET", "/2/users/")) >= 2
    assert not channel.polling.sources["mentions"].failing
    # Every outcome is reported (channels.base.ChannelHealth): the one failed poll, then
    # "working" only once mentions work again, never while they wait for the reset.
    failed = (
        "failing",
        "x",
        ACCOUNT,
        "mentions: PlatformError: X answered 429 for mentions: Too Many Requests",
    )
    assert [c for c in channel.health.calls if c[0] == "failing"] == [failed]
    after = channel.health.calls[channel.health.calls.index(failed) + 1 :]
    assert after and set(after) == {("working", "x", ACCOUNT)}


async def test_a_window_used_up_on_a_200_is_not_called_again_before_its_reset(
    db: Database, intake: Intake, fake: FakeXApi, make_channel: Callable[..., XChannel],
    clock: FixedClock,
) -> None:
    fake.mention(ACCOUNT, ALICE, "@pemkab satu")
    fake.window("mentions").limit = 1  # the next window holds one call
    channel = make_channel(sources=["mentions"])
    await channel.start(intake)
    try:
        await wait_for(lambda: cursor(db, "mentions") is not None)
        fake.mention(ACCOUNT, ALICE, "@pemkab dua")
        await asyncio.sleep(0.3)  # several poll intervals: none may call X
        assert len(fake.of("GET", "/2/users/")) == 1
        clock.advance(timedelta(seconds=901))
        await wait_for(lambda: len(messages(db)) == 2)
    finally:
        await channel.stop()
    assert len(fake.of("GET", "/2/users/")) == 2


async def test_a_restart_resumes_from_the_committed_cursors(
    db: Database, intake: Intake, fake: FakeXApi, make_channel: Callable[..., XChannel]
) -> None:
    first = fake.mention(ACCOUNT, ALICE, "@pemkab laporan pertama")
    dm = fake.dm(ACCOUNT, ALICE, "DM pertama")
    channel = make_channel()
    await channel.start(intake)
    await wait_for(lambda: cursor(db, "mentions") == first["id"] and cursor(db, "dms") == dm["id"])
    await channel.stop()
    before = len(fake.requests)

    second = fake.mention(ACCOUNT, ALICE, "@pemkab laporan kedua")
    restarted = make_channel()
    await restarted.start(intake)
    try:
        await wait_for(lambda: cursor(db, "mentions") == second["id"])
    finally:
        await restarted.stop()
    after = [r for r in fake.requests[before:] if r.path.endswith("/mentions")]
    assert after[0].query["since_id"] == first["id"]
    assert sorted(m.external_id for m in messages(db)) == sorted(
        [first["id"], second["id"], f"dm:{dm['id']}"]
    )


class DatabaseDownUntilRepaired:
    """The real intake behind a database that refuses every commit until `repair()`."""

    def __init__(self, intake: Intake) -> None:
        self.intake, self.down, self.refused = intake, True, 0

    def repair(self) -> None:
        self.down = False

    async def submit(self, items: Any, cursor: Any = None) -> Any:
        if self.down:
            self.refused += 1
            raise IntakeUnavailable("database is down")
        return await self.intake.submit(items, cursor)

    async def read_cursor(self, channel: str, account: str, name: str) -> str | None:
        return await self.intake.read_cursor(channel, account, name)

    async def record_media(self, result: Any) -> None:
        await self.intake.record_media(result)


async def test_a_database_outage_backs_off_and_loses_nothing(
    db: Database, intake: Intake, fake: FakeXApi, make_channel: Callable[..., XChannel],
    clock: FixedClock,
) -> None:
    mention = fake.mention(ACCOUNT, ALICE, "@pemkab saluran air tersumbat")
    sink = DatabaseDownUntilRepaired(intake)
    channel = make_channel(sources=["mentions"])
    await channel.start(sink)
    await wait_for(lambda: channel.polling.sources["mentions"].consecutive_failures == 1)
    refused = sink.refused  # the batch, and (reads working) its one item on its own
    state = channel.polling.sources["mentions"]
    # Backing off by the clock (the poll interval and up to as much jitter after one failure),
    # not hammering X.
    assert state.retry_at is not None
    assert clock() + timedelta(milliseconds=50) <= state.retry_at
    assert state.retry_at <= clock() + timedelta(milliseconds=100)
    await asyncio.sleep(0.3)
    assert sink.refused == refused <= 2 and len(fake.of("GET", "/2/users/")) == 1
    sink.repair()
    clock.advance(timedelta(seconds=1))
    await wait_for(lambda: cursor(db, "mentions") == mention["id"])
    await channel.stop()
    assert [m.external_id for m in messages(db)] == [mention["id"]]
    assert "since_id" not in fake.of("GET", "/2/users/")[1].query  # the cursor had not moved


async def test_the_first_poll_reads_back_only_the_lookback(
    db: Database, intake: Intake, fake: FakeXApi, make_channel: Callable[..., XChannel],
    clock: FixedClock,
) -> None:
    fake.seed_corpus_mentions([ALICE])  # 2022: long before the lookback
    recorded = fake.seed_corpus_dms(ACCOUNT, ALICE)
    channel = make_channel()  # lookback 2 days
    await channel.start(intake)
    await wait_for(lambda: cursor(db, "dms") == recorded[0]["id"])
    await wait_for(lambda: channel.polling.sources["mentions"].completed_polls > 0)
    assert messages(db) == [] and cursor(db, "mentions") is None
    first = fake.of("GET", "/2/users/")[0]
    assert first.query["start_time"] == "2026-11-21T02:00:00Z"  # the clock less two days

    fresh = fake.mention(ACCOUNT, ALICE, "@pemkab laporan baru")
    dm = fake.dm(ACCOUNT, ALICE, "DM baru")
    await wait_for(lambda: cursor(db, "mentions") == fresh["id"] and cursor(db, "dms") == dm["id"])
    await channel.stop()
    assert sorted(m.external_id for m in messages(db)) == sorted([fresh["id"], f"dm:{dm['id']}"])


@pytest.mark.parametrize(
    "poison", ["Jalan\x00rusak", "Jalan \ud800 rusak"], ids=["nul", "surrogate"]
)
async def test_an_unstorable_mention_never_holds_back_the_ones_after_it(
    db: Database, intake: Intake, fake: FakeXApi, make_channel: Callable[..., XChannel],
    clock: FixedClock, poison: str,
) -> None:
    first = fake.mention(ACCOUNT, ALICE, "@pemkab jalan berlubang")
    bad = fake.mention(ACCOUNT, BUDI, f"@pemkab {poison}")
    last = fake.mention(ACCOUNT, ALICE, "@pemkab lampu jalan mati")
    channel = make_channel(sources=["mentions"])
    await channel.start(intake)
    async with asyncio.timeout(15):  # each failed poll backs off by the clock: move it along
        while cursor(db, "mentions") != last["id"]:
            clock.advance(timedelta(seconds=1))
            await asyncio.sleep(0.02)
    await channel.stop()

    stored = {m.external_id: m for m in messages(db)}
    assert stored[first["id"]].text == "@pemkab jalan berlubang"
    assert stored[last["id"]].text == "@pemkab lampu jalan mati"
    assert stored[first["id"]].ticket_id == stored[last["id"]].ticket_id
    with db.read() as session:
        kept = session.exec(select(RawEvent).where(RawEvent.external_id == bad["id"])).one()
    if kept.kind == "unstorable":  # kept as unreadable: the reason and the tweet, escaped
        assert kept.error.startswith("not storable: ")
        assert json.loads(kept.payload["payload"])["tweet"]["text"] == f"@pemkab {poison}"
        assert bad["id"] not in stored
    else:  # an intake that makes such text storable keeps it as a message
        assert kept.kind == "message" and bad["id"] in stored
