"""Tokens go only where the platform's API lives and media comes only from its media hosts:
WhatsApp media lookups, Graph paging and CDN links, X photos, each against its fake."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from test_whatsapp_parse import all_cases
from test_whatsapp_webhook import PHOTO, Harness, make_config, media_settled, serve

from conftest import FixedClock
from fakes.whatsapp_cloud import FakeWhatsAppCloud
from store.db import Database
from triage.intake import Intake

MEDIA_ID = "1481726922764521"


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
