"""The Facebook poller against the fake Graph server and the real intake (SQLite, PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from pydantic import SecretStr
from sqlmodel import select

from channels.base import (
    Cursor,
    Inbound,
    IntakeResult,
    IntakeUnavailable,
    MediaResult,
)
from channels.meta.facebook import FacebookChannel, FacebookConfig
from channels.meta.graph import GraphClient, GraphThrottled, Usage
from conftest import FixedClock, corpus_dir
from fake_meta_graph import FakeGraph, throttled, token_expired
from fake_meta_graph_seed import FB_PAGE, facebook_comments, load, seed_facebook
from store.db import Database
from store.models import (
    Attachment,
    DeliveryReceipt,
    Message,
    PollCursor,
    RawEvent,
    Reporter,
    Ticket,
)
from support.health import HealthLog
from support.waiting import until as wait_for
from triage.intake import Intake

FIXTURES = Path(__file__).resolve().parent / "fixtures"
POST = "19292868552_10158407654328553"
KUN_LIU = "2711636948859886"
SRI = "6120384756102938"


@pytest.fixture
async def graph(clock: FixedClock) -> AsyncIterator[FakeGraph]:
    fake = await FakeGraph(clock=clock).start()
    seed_facebook(fake, corpus_dir("facebook"), clock())
    yield fake
    await fake.stop()


def fb_config(graph: FakeGraph, **overrides: Any) -> FacebookConfig:
    values: dict[str, Any] = {
        "enabled": True,
        "page_id": FB_PAGE,
        "access_token": graph.access_token,
        "api_base": graph.api_base,
        "poll_interval": "0.05s",
        "lookback": "2d",
        "retry_initial": "0.05s",
        "retry_max": "0.2s",
        "request_pause": "0s",  # the pause itself is checked on the client below
    }
    return FacebookConfig.model_validate(values | overrides)


@pytest.fixture
def make_channel(
    graph: FakeGraph, http: aiohttp.ClientSession, tmp_path: Path, clock: FixedClock
) -> Callable[..., FacebookChannel]:
    def make(**overrides: Any) -> FacebookChannel:
        return FacebookChannel(fb_config(graph, **overrides), tmp_path / "data", http, clock)

    return make


def rows(db: Database, model: Any, *where: Any) -> list[Any]:
    with db.read() as session:
        return list(session.exec(select(model).where(*where)).all())


def message(db: Database, external_id: str) -> Message:
    (found,) = rows(db, Message, Message.external_id == external_id)
    return found


def ticket_of(db: Database, external_id: str) -> Ticket:
    (found,) = rows(db, Ticket, Ticket.id == message(db, external_id).ticket_id)
    return found


def cursor(db: Database, channel: str, account: str, name: str) -> dict[str, Any] | None:
    with db.read() as session:
        row = session.get(PollCursor, (channel, account, name))
        return json.loads(row.value) if row else None


def graph_time(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")


class CountingSink:
    """The real intake, counting what each commit stored; optionally down after `fail_after`."""

    def __init__(self, intake: Intake, fail_after: int | None = None) -> None:
        self.intake, self.fail_after = intake, fail_after
        self.results: list[IntakeResult] = []

    async def submit(self, items: Sequence[Inbound], cursor: Cursor | None = None) -> IntakeResult:
        if self.fail_after is not None and len(self.results) >= self.fail_after:
            raise IntakeUnavailable("database is down")
        result = await self.intake.submit(items, cursor)
        self.results.append(result)
        return result

    async def read_cursor(self, channel: str, account: str, name: str) -> str | None:
        return await self.intake.read_cursor(channel, account, name)

    async def record_media(self, result: MediaResult) -> None:
        await self.intake.record_media(result)


def expected_comments(clock: FixedClock) -> list[dict[str, Any]]:
    """The corpus stream as the fake serves it, with the same ids, authors and times."""
    fake = FakeGraph(clock=clock)
    return facebook_comments(corpus_dir("facebook"), clock(), fake)


# --- first run --------------------------------------------------------------------------------


async def test_first_run_stores_dms_with_attachments_and_threads_them(
    make_channel: Callable[..., FacebookChannel], intake: Intake, db: Database, clock: FixedClock
) -> None:
    channel = make_channel(sources=["messages"])
    await channel.poll_once(intake)
    await channel.media.wait_idle()

    recorded = load(corpus_dir("facebook") / "messages_messages_info.json")
    ids = list(recorded)
    first = message(db, ids[0])
    assert (first.channel, first.account, first.direction) == ("facebook", FB_PAGE, "in")
    assert first.sender_id == KUN_LIU
    assert first.text == ""
    assert first.reply_to == "t_587956915396498"  # the conversation: the thread hint
    assert first.subject is None
    assert first.parse_error is None
    assert first.sent_at == clock() - timedelta(hours=3, minutes=20)
    second = message(db, ids[1])
    assert second.sent_at == clock() - timedelta(hours=3)
    assert second.ticket_id == first.ticket_id
    ticket = ticket_of(db, ids[0])
    assert (ticket.channel, ticket.account, ticket.status, ticket.message_count) == (
        "facebook",
        FB_PAGE,
        "new",
        2,
    )
    (reporter,) = rows(db, Reporter, Reporter.id == ticket.reporter_id)
    assert (reporter.sender_id, reporter.display_name, reporter.contact) == (
        KUN_LIU,
        "Kun Liu",
        None,
    )

    image, video = rows(db, Attachment, Attachment.message_id == first.id) + rows(
        db, Attachment, Attachment.message_id == second.id
    )
    assert (image.kind, image.mime_type, image.file_name) == (
        "image",
        "image/jpeg",
        "image-651143212510248",
    )
    assert (video.kind, video.mime_type, video.file_name) == (
        "video",
        "video/mp4",
        "video-1627035862.mp4",
    )
    for attachment in (image, video):
        assert attachment.fetch_state == "stored", attachment.fetch_error
        stored = Path(channel.media.data_dir) / str(attachment.stored_path)
        name = attachment.media_ref.rsplit("/", 1)[-1]
        assert stored.read_bytes() == f"bytes of {name}".encode()
        assert attachment.size == len(f"bytes of {name}")  # as received, not as announced

    report = message(db, "m_SriWahyuni01_jalan_rusak_tlogowungu")
    assert report.text.startswith("Selamat siang, jalan di Desa Tlogowungu RT 03 RW 02")
    assert report.reply_to == "t_233782918546745"
    photo, letter = rows(db, Attachment, Attachment.message_id == report.id)
    assert (photo.kind, photo.file_name, letter.kind, letter.mime_type, letter.file_name) == (
        "image",
        "image-774412093321001",
        "document",
        "application/pdf",
        "surat-rt.pdf",
    )
    follow_up = message(db, "m_SriWahyuni02_lokasi")
    assert follow_up.ticket_id == report.ticket_id != first.ticket_id
    assert ticket_of(db, "m_SriWahyuni02_lokasi").summary.startswith("Selamat siang, jalan")

    state = cursor(db, "facebook", FB_PAGE, "messages")
    assert state is not None
    assert state["since"] == (clock() - timedelta(hours=1, minutes=40)).isoformat()
    assert list(state["seen"]) == ["m_SriWahyuni02_lokasi"]  # the ids at `since`


async def test_first_run_reads_comments_within_the_lookback_as_reports(
    make_channel: Callable[..., FacebookChannel],
    graph: FakeGraph,
    intake: Intake,
    db: Database,
    clock: FixedClock,
) -> None:
    old = {
        "id": f"{POST.split('_')[1]}_1",
        "message": "Komentar lama sebelum Kanal dipasang",
        "created_time": graph.time(clock() - timedelta(days=3)),
        "from": {"id": "5810000009999", "name": "Warga Lama"},
    }
    graph.add_comment(POST, old)
    channel = make_channel(sources=["comments"])
    await channel.poll_once(intake)

    comments = expected_comments(clock)
    citizens = [c for c in comments if c["from"]["id"] != FB_PAGE]
    ours = [c for c in comments if c["from"]["id"] == FB_PAGE]
    stored = rows(db, Message)
    assert sorted(m.external_id for m in stored) == sorted(f"comment:{c['id']}" for c in citizens)
    assert f"comment:{old['id']}" not in {m.external_id for m in stored}
    for expected in citizens:
        got = message(db, f"comment:{expected['id']}")
        assert got.sender_id == expected["from"]["id"]
        assert got.text == expected["message"]
        assert got.sent_at == graph_time(expected["created_time"])
        assert got.subject == (
            "Komentar di postingan: Sampaikan keluhan layanan publik Kabupaten Pati lewat kolom "
            "komentar atau pesan…"
        )
        parent = expected.get("parent", {}).get("id")
        assert got.reply_to == (f"comment:{parent}" if parent else None)
        raw = rows(db, RawEvent, RawEvent.id == got.raw_event_id)[0].payload
        assert raw["post"] == {
            "id": POST,
            "caption": load(FIXTURES / "facebook/post__announcement.json")["message"],
            "link": "https://www.facebook.com/19292868552/posts/10158407654328553/",
        }
        assert raw["comment"]["id"] == expected["id"]
    # A citizen's reply to another citizen's comment is their own report: anyone may reply
    # under a public comment. Its ticket names the comment's for the operator to merge.
    reply = message(db, "comment:10158407654328553_10158409984053553")
    parent = message(db, "comment:10158407654328553_10158407903973553")
    assert reply.ticket_id != parent.ticket_id
    with db.read() as session:
        replied, commented = (
            session.get(Ticket, reply.ticket_id),
            session.get(Ticket, parent.ticket_id),
        )
    assert replied.hints.mentions == [commented.number]
    assert (ticket_of(db, parent.external_id).message_count, replied.message_count) == (1, 1)
    # The Page's own answers are receipts of what was sent, never reports.
    receipts = rows(db, DeliveryReceipt)
    assert sorted((r.platform_message_id, r.state) for r in receipts) == sorted(
        (c["id"], "sent") for c in ours
    )
    assert len(rows(db, Ticket)) == len(citizens)  # one each, the reply too


async def test_incremental_polls_read_only_what_is_new(
    make_channel: Callable[..., FacebookChannel],
    graph: FakeGraph,
    intake: Intake,
    db: Database,
    clock: FixedClock,
) -> None:
    channel = make_channel(sources=["messages", "comments"])
    sink = CountingSink(intake)
    await channel.poll_once(sink)
    first = len(rows(db, RawEvent))
    await channel.poll_once(sink)
    assert len(rows(db, RawEvent)) == first
    assert sum(r.duplicates for r in sink.results) == 0  # nothing was even re-submitted

    clock.advance(timedelta(minutes=5))
    graph.add_dm(
        FB_PAGE,
        "t_233782918546745",
        SRI,
        {
            "id": "m_SriWahyuni03_foto_baru",
            "created_time": graph.time(clock()),
            "from": {"id": SRI, "name": "Sri Wahyuni"},
            "message": "Sudah ada yang jatuh lagi tadi pagi.",
        },
    )
    graph.add_comment(
        POST,
        {
            "id": "10158407654328553_777",
            "message": "Saluran air di Pasar Puri mampet, mohon dicek",
            "created_time": graph.time(clock()),
            "from": {"id": "5810000007777", "name": "Pak Darmo"},
        },
    )
    await channel.poll_once(sink)
    assert len(rows(db, RawEvent)) == first + 2
    assert sum(r.duplicates for r in sink.results) == 0
    new_dm = message(db, "m_SriWahyuni03_foto_baru")
    assert new_dm.ticket_id == message(db, "m_SriWahyuni01_jalan_rusak_tlogowungu").ticket_id
    drain = message(db, "comment:10158407654328553_777")
    assert (drain.sender_id, drain.text, drain.sent_at) == (
        "5810000007777",
        "Saluran air di Pasar Puri mampet, mohon dicek",
        clock(),
    )
    assert cursor(db, "facebook", FB_PAGE, "messages")["since"] == clock().isoformat()
    assert cursor(db, "facebook", FB_PAGE, "comments")["since"] == clock().isoformat()


async def test_a_page_served_twice_stores_everything_once(
    make_channel: Callable[..., FacebookChannel],
    graph: FakeGraph,
    intake: Intake,
    db: Database,
) -> None:
    graph.page_size = 3
    graph.repeat_pages = {"comments", "conversations", "messages"}
    channel = make_channel(sources=["messages", "comments"])
    sink = CountingSink(intake)
    await channel.poll_once(sink)
    assert sum(r.duplicates for r in sink.results) == 0
    external = [m.external_id for m in rows(db, Message)]
    assert len(external) == len(set(external)) == 4 + 11  # DMs + citizens' comments
    repeated = [r for r in graph.received if r.path.endswith("/comments") and r.query.get("after")]
    assert repeated, "the fake served no second page"
    # The token in Graph's `next` links travels in the header only, never in a logged URL.
    assert all("access_token" not in r.query for r in repeated)
    assert {r.authorization for r in repeated} == {f"Bearer {graph.access_token}"}
    assert {r.query["fields"] for r in repeated} == {
        "id,message,created_time,from,parent{id},attachment,permalink_url"
    }


async def test_edited_and_deleted_comments_update_their_messages(
    make_channel: Callable[..., FacebookChannel],
    graph: FakeGraph,
    intake: Intake,
    db: Database,
    clock: FixedClock,
) -> None:
    channel = make_channel(sources=["comments"])
    await channel.poll_once(intake)
    edited, deleted = "10158407654328553_10158414644018553", "10158407654328553_10158414379973553"
    clock.advance(timedelta(minutes=10))
    graph.edit_comment(edited, "Mantap halo.... (ralat: lampu di Jl. Pemuda mati)")
    graph.delete_comment(deleted)
    await channel.poll_once(intake)

    changed = message(db, f"comment:{edited}")
    assert changed.text == "Mantap halo...."
    assert changed.edited_text == "Mantap halo.... (ralat: lampu di Jl. Pemuda mati)"
    assert changed.deleted_at is None
    gone = message(db, f"comment:{deleted}")
    assert gone.deleted_at == clock()
    assert gone.edited_text is None
    kinds = sorted(e.kind for e in rows(db, RawEvent, RawEvent.kind.in_(["edit", "delete"])))
    assert kinds == ["delete", "edit"]
    state = cursor(db, "facebook", FB_PAGE, "comments")
    assert f"comment:{deleted}" not in state["seen"]
    # Seen again unchanged: nothing more is stored.
    before = len(rows(db, RawEvent))
    await channel.poll_once(intake)
    assert len(rows(db, RawEvent)) == before


# --- limits and errors ------------------------------------------------------------------------


async def test_throttling_in_the_middle_of_a_listing_loses_nothing(
    make_channel: Callable[..., FacebookChannel],
    graph: FakeGraph,
    intake: Intake,
    db: Database,
    clock: FixedClock,
) -> None:
    graph.page_size = 4
    graph.fail(
        throttled(
            regain_minutes=7,
            match=lambda r: r.path.endswith("/comments") and "after" in r.query,
        )
    )
    channel = make_channel(sources=["comments"])
    with pytest.raises(GraphThrottled) as raised:
        await channel.poll_once(intake)
    assert raised.value.retry_after == 7 * 60
    assert raised.value.code == "80001"
    assert rows(db, Message) == []
    assert cursor(db, "facebook", FB_PAGE, "comments") is None

    await channel.poll_once(intake)
    assert len(rows(db, Message)) == 11


async def test_the_loop_waits_out_throttling_for_the_time_graph_gives(
    make_channel: Callable[..., FacebookChannel],
    graph: FakeGraph,
    intake: Intake,
    clock: FixedClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    graph.fail(throttled(regain_minutes=3))
    channel = make_channel(sources=["messages"])
    await channel.start(intake)
    try:
        await wait_for(lambda: channel.status.state == "throttled")
        assert channel.status.retry_at == clock() + timedelta(minutes=3)
        await asyncio.sleep(0.3)  # several poll intervals: no call goes out while throttled
        assert graph.count("GET", "conversations") == 1
    finally:
        await channel.stop()
    said = [r.getMessage() for r in caplog.records if "is throttled" in r.getMessage()]
    assert len(said) == 1 and "code 80001" in said[0]  # said once, not per retry


async def test_high_usage_stretches_the_poll_interval(
    make_channel: Callable[..., FacebookChannel], graph: FakeGraph, intake: Intake
) -> None:
    channel = make_channel(sources=["messages"], poll_interval="60s", slow_at=75)
    await channel.poll_once(intake)
    assert channel.next_interval() == 60
    graph.buc_usage = 95
    await channel.poll_once(intake)
    assert channel.client.usage.percent == 95
    assert channel.next_interval() == pytest.approx(60 * (1 + 9 * 20 / 25))


async def test_the_client_pauses_between_calls_once_usage_passes_slow_at(
    graph: FakeGraph, http: aiohttp.ClientSession
) -> None:
    pauses: list[float] = []

    async def sleep(seconds: float) -> None:
        pauses.append(seconds)

    client = GraphClient(
        api_base=graph.api_base,
        access_token=SecretStr(graph.access_token),
        http=http,
        slow_at=80,
        pause=2.0,
        sleep=sleep,
    )
    await client.get(f"{FB_PAGE}/conversations", {"platform": "messenger"})
    graph.buc_usage = 90
    graph.app_usage = {"call_count": 85, "total_cputime": 10, "total_time": 12}
    await client.get(f"{FB_PAGE}/conversations", {"platform": "messenger"})
    await client.get(f"{FB_PAGE}/conversations", {"platform": "messenger"})
    assert client.usage == Usage(percent=90, regain_minutes=0)
    assert pauses == [2.0 * (1 + 4 * 10 / 20)]  # none before usage passed 80%


async def test_an_expired_token_stops_the_channel_with_an_alert(
    make_channel: Callable[..., FacebookChannel],
    graph: FakeGraph,
    intake: Intake,
    caplog: pytest.LogCaptureFixture,
) -> None:
    graph.fail(token_expired(times=1000))
    channel = make_channel()
    notifier = HealthLog()
    channel.health = notifier
    await channel.start(intake)
    try:
        async with asyncio.timeout(10):
            await channel.wait_stopped()
    finally:
        await channel.stop()
    assert channel.status.state == "stopped"
    calls = len(graph.received)
    assert calls == 1  # no crash loop
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert [r.getMessage() for r in errors] == [channel.status.alert]
    assert channel.status.alert.startswith(
        f"Facebook channel (account {FB_PAGE}) stopped: the page access token has expired or "
        "was revoked (Graph HTTP 400 code 190: Error validating access token"
    )
    assert channel.status.alert.endswith(
        "Generate a new Page access token, set channels.facebook.access_token, and restart Kanal."
    )
    assert notifier.calls == [("failing", "facebook", FB_PAGE, channel.status.alert)]


# --- crash safety -----------------------------------------------------------------------------


async def test_restart_after_a_failed_commit_resumes_from_the_committed_cursor(
    make_channel: Callable[..., FacebookChannel],
    graph: FakeGraph,
    intake: Intake,
    db: Database,
) -> None:
    first = make_channel(sources=["comments"], batch_size=3)
    broken = CountingSink(intake, fail_after=2)  # the database goes down after two commits
    with pytest.raises(IntakeUnavailable):
        await first.poll_once(broken)
    committed = {m.external_id for m in rows(db, Message)}
    assert 0 < len(committed) < 11
    assert cursor(db, "facebook", FB_PAGE, "comments") is not None

    second = make_channel(sources=["comments"], batch_size=3)
    sink = CountingSink(intake)
    await second.poll_once(sink)
    assert sum(r.duplicates for r in sink.results) == 0  # resumed, not re-read
    external = [m.external_id for m in rows(db, Message)]
    assert len(external) == len(set(external)) == 11
    assert committed < set(external)
    receipts = [r.platform_message_id for r in rows(db, DeliveryReceipt)]
    assert len(receipts) == len(set(receipts)) == 4


async def test_an_attachment_that_cannot_be_downloaded_is_marked_failed(
    make_channel: Callable[..., FacebookChannel],
    graph: FakeGraph,
    intake: Intake,
    db: Database,
    clock: FixedClock,
) -> None:
    graph.add_dm(
        FB_PAGE,
        "t_233782918546745",
        SRI,
        {
            "id": "m_SriWahyuni09_expired_link",
            "created_time": graph.time(clock()),
            "from": {"id": SRI, "name": "Sri Wahyuni"},
            "attachments": {
                "data": [
                    {
                        "id": "9",
                        "mime_type": "image/jpeg",
                        "file_url": f"{graph.base_url}/cdn/gone.jpg",
                    }
                ]
            },
        },
    )
    channel = make_channel(sources=["messages"])
    await channel.poll_once(intake)
    await channel.media.wait_idle()
    gone = message(db, "m_SriWahyuni09_expired_link")
    [attachment] = rows(db, Attachment, Attachment.message_id == gone.id)
    assert (attachment.kind, attachment.fetch_state, attachment.fetch_error) == (
        "image",
        "failed",
        "download HTTP 404",
    )
    assert attachment.stored_path is None
    # Signed CDN links are their own permission: the page token never leaves for the CDN.
    assert next(r for r in graph.received if r.path == "/cdn/gone.jpg").authorization is None


async def test_media_left_pending_by_a_stopped_process_is_fetched_on_the_next_start(
    make_channel: Callable[..., FacebookChannel],
    graph: FakeGraph,
    intake: Intake,
    db: Database,
) -> None:
    graph.cdn_gate = asyncio.Event()
    first = make_channel(sources=["messages"])
    await first.start(intake)
    await wait_for(lambda: len([r for r in graph.received if r.path.startswith("/cdn/")]) == 4)
    await first.stop()  # the process stops mid-download
    assert {a.fetch_state for a in rows(db, Attachment)} == {"pending"}

    graph.cdn_gate.set()
    second = make_channel(sources=[])
    await second.start(intake)
    try:
        await wait_for(lambda: {a.fetch_state for a in rows(db, Attachment)} == {"stored"})
    finally:
        await second.stop()
    for attachment in rows(db, Attachment):
        name = attachment.media_ref.rsplit("/", 1)[-1]
        stored = Path(second.media.data_dir) / str(attachment.stored_path)
        assert stored.read_bytes() == f"bytes of {name}".encode()


class StallingSink(CountingSink):
    """The real intake, whose commit number `stall_at` never comes: the process dies there."""

    def __init__(self, intake: Intake, stall_at: int) -> None:
        super().__init__(intake)
        self.stall_at, self.stalled = stall_at, asyncio.Event()

    async def submit(self, items: Sequence[Inbound], cursor: Cursor | None = None) -> IntakeResult:
        if len(self.results) + 1 == self.stall_at:
            self.stalled.set()
            await asyncio.Event().wait()  # until cancelled by stop()
        return await super().submit(items, cursor)


async def test_a_channel_stopped_mid_run_resumes_in_a_new_instance(
    make_channel: Callable[..., FacebookChannel], intake: Intake, db: Database
) -> None:
    first = make_channel(sources=["messages", "comments"], batch_size=2)
    stalling = StallingSink(intake, stall_at=4)
    await first.start(stalling)
    async with asyncio.timeout(10):
        await stalling.stalled.wait()
    await first.stop()
    committed = {m.external_id for m in rows(db, Message)}
    assert 0 < len(committed) < 15

    second = make_channel(sources=["messages", "comments"], batch_size=2)
    sink = CountingSink(intake)
    await second.poll_once(sink)
    assert sum(r.duplicates for r in sink.results) == 0
    external = [m.external_id for m in rows(db, Message)]
    assert len(external) == len(set(external)) == 4 + 11
    assert committed < set(external)


@pytest.mark.parametrize(
    "poison", ["Jalan\x00rusak", "Jalan \ud800 rusak"], ids=["nul", "surrogate"]
)
async def test_an_unstorable_comment_never_holds_back_the_ones_after_it(
    make_channel: Callable[..., FacebookChannel],
    graph: FakeGraph,
    intake: Intake,
    db: Database,
    clock: FixedClock,
    poison: str,
) -> None:
    channel = make_channel(sources=["comments"])
    await channel.poll_once(intake)
    texts = ["Lampu jalan mati", poison, "Sampah menumpuk di pasar"]
    for n, text in enumerate(texts):
        clock.advance(timedelta(minutes=1))
        graph.add_comment(
            POST,
            {
                "id": f"10158407654328553_90{n}",
                "message": text,
                "created_time": graph.time(clock()),
                "from": {"id": f"58100000090{n}", "name": "Warga"},
            },
        )
    for _ in range(3):  # a poll may leave an item to the next; never to a fourth
        try:
            await channel.poll_once(intake)
            break
        except IntakeUnavailable:
            continue

    assert message(db, "comment:10158407654328553_900").text == "Lampu jalan mati"
    assert message(db, "comment:10158407654328553_902").text == "Sampah menumpuk di pasar"
    assert cursor(db, "facebook", FB_PAGE, "comments")["since"] == clock().isoformat()
    (kept,) = rows(db, RawEvent, RawEvent.external_id == "comment:10158407654328553_901")
    if kept.kind == "unstorable":  # kept as unreadable: the reason and the comment, escaped
        assert kept.error.startswith("not storable: ")
        assert poison in kept.payload["payload"].encode().decode("unicode_escape")
        assert rows(db, Message, Message.external_id == kept.external_id) == []
    else:  # an intake that makes such text storable keeps it as a message
        assert kept.kind == "message"
