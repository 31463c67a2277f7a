"""An OPD's answer with a photo to a Messenger reporter: the Send API takes the file by URL, so
the fake Graph fetches it from Kanal's signed public link, as Meta does (issue 18, item 5)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from test_facebook_e2e import ticket_with
from test_facebook_poll import SRI

from conftest import FixedClock, corpus_dir
from fake_meta_graph import FakeGraph
from fake_meta_graph_seed import FB_PAGE, seed_facebook
from inbox_site import png
from runtime import Runtime, build_runtime
from settings import parse_settings
from store.db import Database
from store.users import add_user, create_token
from support.kanal_server import kanal_server
from support.local_server import free_port
from support.waiting import until
from triage.action_requests import Verify

ANSWER = "Lubang di jalan itu sudah kami tambal."
PHOTO = png(120, 90)


@pytest.fixture
async def graph(clock: FixedClock) -> AsyncIterator[FakeGraph]:
    fake = await FakeGraph(clock=clock).start()
    seed_facebook(fake, corpus_dir("facebook"), clock())
    yield fake
    await fake.stop()


@pytest.fixture
async def kanal(
    db: Database, tmp_path: Path, clock: FixedClock, graph: FakeGraph
) -> AsyncIterator[tuple[Runtime, str]]:
    port = free_port()
    document: dict[str, Any] = {
        "data_dir": str(tmp_path / "data"),
        "database": {"url": db.url},
        "server": {"public_url": f"http://127.0.0.1:{port}"},
        "channels": {
            "facebook": {
                "enabled": True,
                "acknowledge": False,
                "page_id": FB_PAGE,
                "access_token": graph.access_token,
                "api_base": graph.api_base,
                "poll_interval": "0.05s",
                "sources": ["messages"],
                "request_pause": "0s",
            }
        },
        "opd": [{"code": "PUPR", "name": "Dinas Pekerjaan Umum dan Penataan Ruang"}],
        "category": [{"code": "jalan", "name": "Jalan rusak", "opd": "PUPR", "keywords": ["x"]}],
        "triage": {"opd_answers": "direct"},
    }
    settings = parse_settings(document, tmp_path / "config.toml")
    runtime = build_runtime(settings, tmp_path, db, clock=clock)
    async with kanal_server(runtime, port):
        yield runtime, f"http://127.0.0.1:{port}"


async def test_a_dm_answer_sends_its_photo_by_url_from_the_signed_link(
    kanal: tuple[Runtime, str], db: Database, graph: FakeGraph, clock: FixedClock
) -> None:
    runtime, base = kanal
    ticket = await until(lambda: ticket_with(db, "m_SriWahyuni02_lokasi"))
    runtime.actions.apply(ticket.number, Verify(category="jalan", forward=True), "op1")
    await until(lambda: graph.posted("messages") or None)  # the forwarding
    with db.write() as session:
        add_user(session, "pupr1", "rahasia-sekali", "opd", opd="PUPR", now=clock())
        token = create_token(session, "pupr1", now=clock())
    form = aiohttp.FormData()
    form.add_field("body", json.dumps({"action": "answer", "message": ANSWER}))
    form.add_field("files", PHOTO, filename="tambalan.png", content_type="image/png")
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{base}/api/tickets/{ticket.number}/actions",
            data=form,
            headers={"Authorization": f"Bearer {token}"},
        ) as response,
    ):
        assert response.status == 200, await response.text()

    await until(lambda: graph.fetched or None)  # recorded once the photo is fetched
    _forwarding, answer, photo = (call.body for call in graph.posted("messages"))
    assert answer == {
        "recipient": {"id": SRI},
        "message": {"text": ANSWER},
        "messaging_type": "RESPONSE",
    }
    [(url, content_type, data)] = graph.fetched
    assert url.startswith(f"{base}/files/")
    assert (content_type, data) == ("image/png", PHOTO)
    assert photo == {
        "recipient": {"id": SRI},
        "message": {"attachment": {"type": "image", "payload": {"url": url, "is_reusable": False}}},
        "messaging_type": "RESPONSE",
    }
