"""Meta's webhook for Facebook and Instagram, on top of polling: signed deliveries into intake."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from test_facebook_poll import SRI, fb_config, message, rows

from channels.meta.facebook import FacebookChannel
from channels.meta.instagram import InstagramChannel, InstagramConfig
from conftest import FixedClock, corpus_dir
from fake_meta_graph import FakeGraph
from fake_meta_graph_seed import FB_PAGE, IG_ACCOUNT, IG_PAGE, cdn_urls, seed_facebook
from store.db import Database
from store.models import Attachment, DeliveryReceipt, RawEvent
from triage.intake import Intake

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SECRET = "meta-app-secret"


def body_of(platform: str, name: str, graph: FakeGraph | None = None) -> bytes:
    data = json.loads((FIXTURES / platform / f"{name}.json").read_text(encoding="utf-8"))
    return json.dumps(cdn_urls(graph, data) if graph else data).encode()


def signature(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@pytest.fixture
async def graph(clock: FixedClock) -> AsyncIterator[FakeGraph]:
    fake = await FakeGraph(clock=clock).start()
    seed_facebook(fake, corpus_dir("facebook"), clock())
    yield fake
    await fake.stop()


async def serve(channel: Any, intake: Intake) -> AsyncIterator[TestClient]:
    app = web.Application()
    app.add_routes(channel.routes())
    async with TestClient(TestServer(app)) as client:
        await channel.start(intake)
        try:
            yield client
        finally:
            await channel.stop()


@pytest.fixture
async def facebook(
    graph: FakeGraph, intake: Intake, tmp_path: Path, clock: FixedClock
) -> AsyncIterator[tuple[FacebookChannel, TestClient]]:
    config = fb_config(
        graph, app_secret=SECRET, verify_token="verify-me", sources=[], poll_interval="60s"
    )
    async with aiohttp.ClientSession() as http:
        channel = FacebookChannel(config, tmp_path / "data", http, clock)
        async for client in serve(channel, intake):
            yield channel, client


async def post(client: TestClient, body: bytes, path: str = "/webhooks/facebook") -> int:
    headers = {"X-Hub-Signature-256": signature(body)}
    response = await client.post(path, data=body, headers=headers)
    return response.status


def test_without_a_secret_there_is_no_webhook(graph: FakeGraph, clock: FixedClock) -> None:
    channel = FacebookChannel(fb_config(graph), Path("."), None, clock)  # type: ignore[arg-type]
    assert channel.routes() == []


async def test_the_subscription_handshake(facebook: tuple[FacebookChannel, TestClient]) -> None:
    _, client = facebook
    query = {"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "11582"}
    answer = await client.get("/webhooks/facebook", params=query)
    assert (answer.status, await answer.text()) == (200, "11582")
    wrong = await client.get("/webhooks/facebook", params=query | {"hub.verify_token": "no"})
    assert wrong.status == 403


async def test_a_dm_with_a_photo_is_stored_and_its_photo_fetched(
    facebook: tuple[FacebookChannel, TestClient], graph: FakeGraph, db: Database
) -> None:
    channel, client = facebook
    assert await post(client, body_of("facebook", "webhook__message_with_photo", graph)) == 200
    await channel.media.wait_idle()
    got = message(db, "m_hook01_jembatan_kayen")
    assert (got.channel, got.account, got.sender_id, got.reply_to) == (
        "facebook",
        FB_PAGE,
        SRI,
        None,
    )
    assert got.text == "Jembatan di Kayen retak, truk masih lewat. Foto terlampir."
    assert got.sent_at == datetime(2026, 11, 23, 1, 59, tzinfo=UTC)
    [photo] = rows(db, Attachment, Attachment.message_id == got.id)
    assert (photo.kind, photo.fetch_state, photo.mime_type) == ("image", "stored", "image/jpeg")

    # A reaction to it is an update; a read receipt is dropped on purpose.
    assert await post(client, body_of("facebook", "webhook__reaction_and_read")) == 200
    assert message(db, "m_hook01_jembatan_kayen").reaction == "\u2764"
    assert [e.kind for e in rows(db, RawEvent)] == ["message", "reaction"]


async def test_an_echo_of_our_reply_is_a_receipt(
    facebook: tuple[FacebookChannel, TestClient], db: Database
) -> None:
    _, client = facebook
    assert await post(client, body_of("facebook", "webhook__message_echo")) == 200
    [receipt] = rows(db, DeliveryReceipt)
    assert (receipt.platform_message_id, receipt.state, receipt.at) == (
        "m_fake1",
        "sent",
        datetime(2026, 11, 23, 2, 0, 50, tzinfo=UTC),
    )
    assert rows(db, RawEvent)[0].kind == "status"


async def test_a_comment_its_edit_and_its_removal(
    facebook: tuple[FacebookChannel, TestClient], db: Database, clock: FixedClock
) -> None:
    _, client = facebook
    add = "webhook__feed_comment_add"
    for name in (add, "webhook__feed_comment_edited", "webhook__feed_comment_remove", add):
        assert await post(client, body_of("facebook", name)) == 200  # the add twice: a retry
    got = message(db, "comment:10158407654328553_4242")
    assert (got.sender_id, got.text, got.reply_to, got.subject) == (
        "5810000004242",
        "Sampah di Pasar Juwana belum diangkut tiga hari.",
        None,
        None,
    )
    assert got.sent_at == datetime(2026, 11, 23, 2, 1, 50, tzinfo=UTC)
    assert got.edited_text == "Sampah di Pasar Juwana belum diangkut empat hari."
    assert got.deleted_at == datetime(2026, 11, 23, 2, 6, 30, tzinfo=UTC)
    assert sorted(e.kind for e in rows(db, RawEvent)) == ["delete", "edit", "message"]


async def test_a_comment_seen_by_webhook_and_by_polling_is_stored_once(
    facebook: tuple[FacebookChannel, TestClient], graph: FakeGraph, intake: Intake, db: Database
) -> None:
    channel, client = facebook
    graph.add_comment(
        "19292868552_10158407654328553",
        {
            "id": "10158407654328553_4242",
            "message": "Sampah di Pasar Juwana belum diangkut tiga hari.",
            "created_time": "2026-11-23T02:01:50+0000",
            "from": {"id": "5810000004242", "name": "Bu Ning"},
        },
    )
    assert await post(client, body_of("facebook", "webhook__feed_comment_add")) == 200
    config = fb_config(graph, sources=["comments"])
    poller = FacebookChannel(config, Path("."), channel.client.http, channel.clock)
    await poller.poll_once(intake)
    keys = [e.external_id for e in rows(db, RawEvent)]
    assert keys.count("comment:10158407654328553_4242") == 1


async def test_unsigned_or_wrongly_signed_deliveries_are_refused(
    facebook: tuple[FacebookChannel, TestClient], db: Database
) -> None:
    _, client = facebook
    body = body_of("facebook", "webhook__feed_comment_add")
    unsigned = await client.post("/webhooks/facebook", data=body)
    wrong = await client.post(
        "/webhooks/facebook", data=body, headers={"X-Hub-Signature-256": signature(body, "x")}
    )
    assert (unsigned.status, wrong.status) == (401, 401)
    assert rows(db, RawEvent) == []


async def test_instagram_comment_replies_thread_and_mentions_are_kept(
    graph: FakeGraph, intake: Intake, db: Database, tmp_path: Path, clock: FixedClock
) -> None:
    config = {
        "enabled": True,
        "page_id": IG_PAGE,
        "instagram_account_id": IG_ACCOUNT,
        "access_token": graph.access_token,
        "api_base": graph.api_base,
        "app_secret": SECRET,
        "verify_token": "v",
        "sources": [],
    }
    async with aiohttp.ClientSession() as http:
        channel = InstagramChannel(InstagramConfig(**config), tmp_path, http, clock)
        async for client in serve(channel, intake):
            for name in ("webhook__comment_reply", "webhook__mention"):
                assert await post(client, body_of("instagram", name), "/webhooks/instagram") == 200
    got = message(db, "comment:17999000000000077")
    assert (got.channel, got.account, got.sender_id, got.reply_to, got.sent_at) == (
        "instagram",
        IG_ACCOUNT,
        "17840003",
        "comment:17914413430382429",
        clock(),
    )
    assert got.text == "Sudah seminggu lampunya mati, Min."
    [mention] = rows(db, RawEvent, RawEvent.kind == "webhook:field:mentions")
    assert mention.error == "change field 'mentions' is not handled"
