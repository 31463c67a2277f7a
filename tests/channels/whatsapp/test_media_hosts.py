"""Tokens go only where the platform's API lives and media comes only from its media hosts:
WhatsApp media lookups, Graph paging and CDN links, X photos, each against its fake."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from pydantic import SecretStr
from sqlmodel import select
from test_whatsapp_parse import all_cases
from test_whatsapp_webhook import PHOTO, Harness, make_config, media_settled, serve

from channels.base import PlatformError
from channels.meta.facebook import FacebookChannel, FacebookConfig
from channels.meta.graph import GraphClient
from channels.x.channel import XChannel, XConfig
from conftest import FixedClock, corpus_dir
from fake_meta_graph import FakeGraph
from fake_meta_graph_seed import FB_PAGE, seed_facebook
from fake_whatsapp_cloud import FakeWhatsAppCloud
from fake_x_api import FakeXApi, load_corpus
from store.db import Database
from store.models import Attachment as AttachmentRow
from store.models import Message
from triage.intake import Intake

MEDIA_ID = "1481726922764521"
SRI = "6120384756102938"


class OtherHost:
    """A server that is not the platform: records who called it and with what header."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str | None]] = []
        app = web.Application()
        app.router.add_get("/{tail:.*}", self._any)
        self.server = TestServer(app)

    async def _any(self, request: web.Request) -> web.Response:
        self.calls.append((request.path_qs, request.headers.get("Authorization")))
        return web.Response(body=PHOTO, content_type="image/jpeg")

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))


@pytest.fixture
async def wa(intake: Intake, tmp_path: Path, clock: FixedClock) -> AsyncIterator[Harness]:
    fake = await FakeWhatsAppCloud().start()
    harness, close = await serve(make_config(fake), intake, tmp_path, clock, fake)
    yield harness
    await close()
    await fake.stop()


@pytest.fixture
async def other_host() -> AsyncIterator[OtherHost]:
    host = OtherHost()
    await host.server.start_server()
    yield host
    await host.server.close()


def image_with_id(media_id: str) -> dict:
    body = json.loads(all_cases()["fixtures/image__caption_sha256"])
    body["entry"][0]["changes"][0]["value"]["messages"][0]["image"]["id"] = media_id
    return body


async def test_a_whatsapp_media_url_on_another_host_gets_no_token(
    wa: Harness, db: Database, other_host: OtherHost
) -> None:
    media = wa.fake.add_media(MEDIA_ID, PHOTO, "image/jpeg")
    media.url = other_host.url("/whatsapp_business/attachments/?mid=1")
    assert await wa.post(image_with_id(MEDIA_ID)) == 200
    [photo] = await media_settled(db, wa)

    assert other_host.calls == []  # neither the token nor even a request
    assert (photo.fetch_state, photo.stored_path) == ("failed", None)
    assert photo.fetch_error == (
        f"media download refused: 127.0.0.1:{other_host.server.port} is not one of the "
        "channel's media_hosts"
    )
    assert wa.fake.count("GET", "/v23.0/") == 1  # looked up once, not retried


@pytest.mark.parametrize("media_id", ["../../me", "..", "1481726922764521/../../x", "%2e%2e"])
async def test_a_whatsapp_media_id_never_leaves_the_api_version(
    wa: Harness, db: Database, media_id: str
) -> None:
    wa.fake.add_media(MEDIA_ID, PHOTO, "image/jpeg")
    assert await wa.post(image_with_id(media_id)) == 200
    [photo] = await media_settled(db, wa)

    assert wa.fake.received == []  # not one request, with or without the token
    assert photo.fetch_state == "failed"
    assert photo.fetch_error.startswith("refused media id ")
    assert photo.fetch_error.endswith(": not a plain id")


# --- Graph (Facebook; Instagram shares the client) ----------------------------------------------


@pytest.fixture
async def graph(clock: FixedClock) -> AsyncIterator[FakeGraph]:
    fake = await FakeGraph(clock=clock).start()
    seed_facebook(fake, corpus_dir("facebook"), clock())
    yield fake
    await fake.stop()


@pytest.fixture
async def facebook(
    graph: FakeGraph, tmp_path: Path, clock: FixedClock
) -> AsyncIterator[FacebookChannel]:
    async with aiohttp.ClientSession() as http:
        config = FacebookConfig.model_validate(
            {
                "enabled": True,
                "page_id": FB_PAGE,
                "access_token": graph.access_token,
                "api_base": graph.api_base,
                "request_pause": "0s",
                "sources": ["messages"],
            }
        )
        yield FacebookChannel(config, tmp_path / "data", http, clock)


async def test_graph_paging_next_on_another_host_is_not_followed_with_the_token(
    facebook: FacebookChannel,
    graph: FakeGraph,
    intake: Intake,
    db: Database,
    other_host: OtherHost,
) -> None:
    graph.page_size = 1  # every listing pages
    graph.next_base = other_host.url("").rstrip("/")
    await facebook.poll_once(intake)

    assert other_host.calls == []
    assert graph.received and all(r.path.startswith("/v23.0/") for r in graph.received)
    with db.read() as session:
        stored = session.exec(select(Message.external_id)).all()
    assert stored  # what the pages on Graph's own host held is read


async def test_a_graph_attachment_on_another_host_is_not_downloaded(
    facebook: FacebookChannel,
    graph: FakeGraph,
    intake: Intake,
    db: Database,
    other_host: OtherHost,
    clock: FixedClock,
) -> None:
    await facebook.poll_once(intake)
    clock.advance(timedelta(minutes=5))
    graph.add_dm(
        FB_PAGE,
        "t_233782918546745",
        SRI,
        {
            "id": "m_SriWahyuni09_foto",
            "created_time": graph.time(clock()),
            "from": {"id": SRI, "name": "Sri Wahyuni"},
            "message": "Fotonya",
            "attachments": {
                "data": [
                    {
                        "id": "900",
                        "mime_type": "image/jpeg",
                        "name": "foto.jpg",
                        "image_data": {
                            "url": other_host.url("/internal/secret.jpg"),
                            "width": 1,
                            "height": 1,
                        },
                    }
                ]
            },
        },
    )
    await facebook.poll_once(intake)
    await facebook.media.wait_idle()

    assert other_host.calls == []
    with db.read() as session:
        message_id = session.exec(
            select(Message.id).where(Message.external_id == "m_SriWahyuni09_foto")
        ).one()
        photo = session.exec(
            select(AttachmentRow).where(AttachmentRow.message_id == message_id)
        ).one()
    assert (photo.fetch_state, photo.stored_path) == ("failed", None)
    assert photo.fetch_error == (
        f"media download refused: 127.0.0.1:{other_host.server.port} is not one of the "
        "channel's media_hosts"
    )


def test_graph_ids_with_dots_or_slashes_never_reach_a_url() -> None:
    client = GraphClient(
        api_base="https://graph.facebook.com/v23.0", access_token=SecretStr("t"), http=None
    )  # type: ignore[arg-type]
    assert client.url("19292868552_10158407654328553/comments") == (
        "https://graph.facebook.com/v23.0/19292868552_10158407654328553/comments"
    )
    for path in ("../me/messages", "t_1/../../x", "%2e%2e/x", "a b/comments"):
        with pytest.raises(PlatformError, match="not a plain id"):
            client.url(path)
    for url in (
        "https://evil.example/v23.0/x",
        "https://graph.facebook.com/v22.0/x",
        "https://graph.facebook.com@evil.example/v23.0/x",
        "http://graph.facebook.com/v23.0/x",
    ):
        with pytest.raises(PlatformError, match="off the configured api_base"):
            client.url(url)


# --- X ------------------------------------------------------------------------------------------


async def test_an_x_photo_on_another_host_is_not_downloaded(
    intake: Intake,
    db: Database,
    tmp_path: Path,
    clock: FixedClock,
    other_host: OtherHost,
) -> None:
    fake = await FakeXApi(load_corpus(corpus_dir("twitter")), clock).start()
    fake.add_user("1500000000000000001", "alice_pati", "Alice Rahayu")
    tweet = fake.mention("783214", "1500000000000000001", "@pemkab foto", photo=PHOTO)
    key = tweet["attachments"]["media_keys"][0]
    fake.media[key]["url"] = other_host.url(f"/media/{key}.jpg")
    config = XConfig.model_validate(
        {
            "enabled": True,
            "bearer_token": "b",
            "consumer_key": "ck",
            "consumer_secret": "cs",
            "access_token": "at",
            "access_token_secret": "ats",
            "user_id": "783214",
            "sources": ["mentions"],
            "api_base": fake.api_base,
            "poll_interval": "50ms",
        }
    )
    async with aiohttp.ClientSession() as http:
        channel = XChannel(config, tmp_path, http, clock)
        await channel.start(intake)
        try:
            async with asyncio.timeout(15):
                while not _attachments_settled(db):
                    await asyncio.sleep(0.02)
        finally:
            await channel.stop()
            await fake.stop()

    assert other_host.calls == []
    with db.read() as session:
        photo = session.exec(select(AttachmentRow)).one()
    assert (photo.fetch_state, photo.stored_path) == ("failed", None)
    assert photo.fetch_error.startswith("photo download refused: 127.0.0.1:")


def _attachments_settled(db: Database) -> bool:
    with db.read() as session:
        states = session.exec(select(AttachmentRow.fetch_state)).all()
    return bool(states) and "pending" not in states
