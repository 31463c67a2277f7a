"""The Instagram poller and replies against the fake Graph server and the real intake."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from test_facebook_poll import fb_config, message, rows, ticket_of

from channels.base import OutboundMessage
from channels.meta.facebook import FacebookChannel
from channels.meta.instagram import InstagramChannel, InstagramConfig
from conftest import FixedClock, corpus_dir
from fake_meta_graph import FakeGraph, token_expired
from fake_meta_graph_seed import (
    FB_PAGE,
    IG_ACCOUNT,
    IG_PAGE,
    IG_USERNAME,
    load,
    seed_facebook,
    seed_instagram,
)
from store.db import Database
from store.models import Attachment, DeliveryReceipt, Message, RawEvent, Reporter
from support.waiting import until as wait_for
from triage.intake import Intake

MEDIA = "17846368219941692"
BUDI = "7301126655443322"
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "instagram"
SUBJECT = (
    "Komentar di postingan: Ada jalan rusak, lampu mati atau layanan yang lambat? Tulis di "
    "komentar atau DM…"
)


@pytest.fixture
async def graph(clock: FixedClock) -> AsyncIterator[FakeGraph]:
    fake = await FakeGraph(clock=clock).start()
    seed_instagram(fake, corpus_dir("instagram"), clock())
    yield fake
    await fake.stop()


def ig_config(graph: FakeGraph, **overrides: Any) -> InstagramConfig:
    values: dict[str, Any] = {
        "enabled": True,
        "page_id": IG_PAGE,
        "instagram_account_id": IG_ACCOUNT,
        "access_token": graph.access_token,
        "api_base": graph.api_base,
        "poll_interval": "0.05s",
        "retry_initial": "0.05s",
        "retry_max": "0.2s",
        "request_pause": "0s",
    }
    return InstagramConfig.model_validate(values | overrides)


@pytest.fixture
def channel(
    graph: FakeGraph, http: aiohttp.ClientSession, tmp_path: Path, clock: FixedClock
) -> InstagramChannel:
    return InstagramChannel(ig_config(graph), tmp_path / "data", http, clock)


async def test_first_run_reads_dms_comments_replies_and_mentions(
    channel: InstagramChannel, intake: Intake, db: Database, clock: FixedClock
) -> None:
    await channel.poll_once(intake)
    await channel.media.wait_idle()

    thread = load(FIXTURE / "messages__report_with_photo.json")
    text_id, photo_id = (m["id"] for m in thread["messages"])
    report = message(db, text_id)
    assert (report.channel, report.account, report.sender_id) == ("instagram", IG_ACCOUNT, BUDI)
    assert report.text == thread["messages"][0]["message"]
    assert report.text.startswith("Min, lampu PJU di Jl. Kol. Sunandar mati semua")
    assert report.reply_to == thread["conversation_id"]
    assert report.sent_at == clock() - timedelta(hours=2)
    photo = message(db, photo_id)
    assert (photo.text, photo.ticket_id, photo.sent_at) == (
        "",
        report.ticket_id,
        clock() - timedelta(hours=1, minutes=40),
    )
    [attachment] = rows(db, Attachment, Attachment.message_id == photo.id)
    assert (attachment.kind, attachment.mime_type, attachment.fetch_state) == (
        "image",
        "image/jpeg",
        "stored",
    )
    stored = channel.media.data_dir / str(attachment.stored_path)
    assert stored.read_bytes() == b"bytes of pju-mati.jpg"
    (budi,) = rows(db, Reporter, Reporter.sender_id == BUDI)
    assert (budi.channel, budi.display_name, budi.contact) == (
        "instagram",
        "budi.santoso.pati",
        "@budi.santoso.pati",
    )

    expected = {  # id: (sender id, username, text, minutes before the clock)
        "17914413430382429": ("17840003", "warga_pati_3", "@ikroskun", 140),
        "17892250648466172": ("17840002", "ikroskun", "@ikroskun  Hey, guys", 120),
        "17874875428706419": ("17840001", "warga_pati_1", "Beautiful!", 100),
        "17858154961981086": ("17840000", "lixiangguodu123", "Beautiful!", 80),
    }
    for comment_id, (sender, username, text, minutes) in expected.items():
        got = message(db, f"comment:{comment_id}")
        assert (got.sender_id, got.text, got.subject, got.reply_to) == (
            sender,
            text,
            SUBJECT,
            None,
        )
        assert got.sent_at == clock() - timedelta(minutes=minutes)
        (reporter,) = rows(db, Reporter, Reporter.sender_id == sender)
        assert (reporter.display_name, reporter.contact) == (username, f"@{username}")
    # The account's own reply is a receipt of what was sent.
    [receipt] = rows(db, DeliveryReceipt)
    assert (receipt.platform_message_id, receipt.state, receipt.at) == (
        "17847314687296283",
        "sent",
        clock() - timedelta(hours=1),
    )

    mention = message(db, "mention:17889114512354744")
    assert (mention.sender_id, mention.text, mention.subject) == (
        "ikroskun",
        "@ikroskun hey",
        "Menandai akun di postingan: @ikroskun hey",
    )
    [media] = rows(db, Attachment, Attachment.message_id == mention.id)
    assert (media.kind, media.fetch_state) == ("image", "stored")
    raw = rows(db, RawEvent, RawEvent.id == mention.raw_event_id)[0].payload
    assert raw["mention"]["media_type"] == "CAROUSEL_ALBUM"
    assert len(rows(db, Message)) == 2 + 4 + 1


async def test_a_new_reply_under_an_old_comment_joins_its_ticket(
    channel: InstagramChannel, graph: FakeGraph, intake: Intake, db: Database, clock: FixedClock
) -> None:
    await channel.poll_once(intake)
    clock.advance(timedelta(days=3))  # the comment is far behind the cursor now
    graph.add_comment(
        MEDIA,
        {
            "id": "17999000000000001",
            "text": "Lampunya di depan Alun-alun Pati, sudah seminggu",
            "timestamp": graph.time(clock()),
            "parent_id": "17914413430382429",
            "username": "warga_pati_3",
            "from": {"id": "17840003", "username": "warga_pati_3"},
        },
    )
    await channel.poll_once(intake)
    reply = message(db, "comment:17999000000000001")
    assert reply.reply_to == "comment:17914413430382429"
    assert reply.ticket_id == message(db, "comment:17914413430382429").ticket_id
    assert ticket_of(db, reply.external_id).message_count == 2


async def test_a_deleted_comment_is_marked_deleted(
    channel: InstagramChannel, graph: FakeGraph, intake: Intake, db: Database, clock: FixedClock
) -> None:
    await channel.poll_once(intake)
    clock.advance(timedelta(minutes=5))
    graph.delete_comment("17874875428706419")
    await channel.poll_once(intake)
    assert message(db, "comment:17874875428706419").deleted_at == clock()
    assert message(db, "comment:17858154961981086").deleted_at is None


async def test_replies_go_out_by_dm_public_reply_and_private_reply(
    channel: InstagramChannel, graph: FakeGraph, clock: FixedClock
) -> None:
    base = {
        "channel": "instagram",
        "account": IG_ACCOUNT,
        "recipient_id": BUDI,
        "text": "Terima kasih, sudah kami teruskan ke Dinas Perhubungan.",
        "idempotency_key": "k",
        "last_inbound_at": clock() - timedelta(hours=2),
    }
    dm = await channel.send(OutboundMessage(**base, reply_to="aWdfZAG1f"))
    public = await channel.send(
        OutboundMessage(
            **base | {"recipient_id": "17840000"},
            reply_to="comment:17858154961981086",
            options={"mode": "public"},
        )
    )
    private = await channel.send(
        OutboundMessage(
            **base | {"recipient_id": "17840001"},
            reply_to="comment:17874875428706419",
            options={"mode": "private"},
        )
    )
    sent_dm, sent_private = graph.posted("messages")
    assert sent_dm.path == f"/v23.0/{IG_PAGE}/messages"
    assert sent_dm.body["recipient"] == {"id": BUDI}
    assert sent_dm.body["messaging_type"] == "RESPONSE"
    assert sent_private.body["recipient"] == {"comment_id": "17874875428706419"}
    [reply] = graph.posted("replies")
    assert reply.path == "/v23.0/17858154961981086/replies"
    assert reply.body == {"message": base["text"]}
    assert (dm.platform_message_id, private.platform_message_id) == ("m_fake1", "m_fake3")
    assert public.platform_message_id == f"{MEDIA}_900002"


async def test_a_public_reply_to_a_reply_goes_under_the_top_level_comment(
    channel: InstagramChannel, graph: FakeGraph, clock: FixedClock
) -> None:
    reply = "17847314687296283"  # the account's own reply under 17858154961981086
    result = await channel.send(
        OutboundMessage(
            channel="instagram",
            account=IG_ACCOUNT,
            recipient_id="17840000",
            text="Sudah kami cek ke lokasi.",
            idempotency_key="k",
            reply_to=f"comment:{reply}",
            options={"mode": "public"},
        )
    )
    [lookup] = [r for r in graph.received if r.path == f"/v23.0/{reply}"]
    assert lookup.query["fields"] == "id,parent_id"
    [posted] = graph.posted("replies")
    assert posted.path == "/v23.0/17858154961981086/replies"
    assert graph.comments[MEDIA][-1] == {
        "id": result.platform_message_id,
        "text": "Sudah kami cek ke lokasi.",
        "timestamp": graph.time(clock()),
        "parent_id": "17858154961981086",
        "username": IG_USERNAME,
        "from": {"id": IG_ACCOUNT, "username": IG_USERNAME},
    }


async def test_one_channels_dead_token_leaves_the_other_running(
    channel: InstagramChannel,
    graph: FakeGraph,
    http: aiohttp.ClientSession,
    intake: Intake,
    db: Database,
    tmp_path: Path,
    clock: FixedClock,
) -> None:
    seed_facebook(graph, corpus_dir("facebook"), clock())
    graph.fail(token_expired(times=1000, match=lambda request: FB_PAGE in request.path))
    facebook = FacebookChannel(fb_config(graph), tmp_path / "fb", http, clock)
    await facebook.start(intake)
    await channel.start(intake)
    try:
        async with asyncio.timeout(10):
            await facebook.wait_stopped()
        await wait_for(lambda: channel.status.completed_polls >= 3)
    finally:
        await channel.stop()
        await facebook.stop()
    assert facebook.status.state == "stopped"
    assert channel.status.state == "ok"
    assert {m.channel for m in rows(db, Message)} == {"instagram"}
