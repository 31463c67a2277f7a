"""An OPD's answer with a photo to a reporter on SMS, which carries no files: the text goes out
with a signed link to the photo, which anyone holding the link can open without signing in,
and a changed link opens nothing (issue 18, item 5)."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from test_sms_e2e import DEVICE, KEY, Kanal

from conftest import FixedClock
from fake_sms_gateway import FakeSmsGateway
from inbox_site import png
from runtime import build_runtime
from settings import parse_settings
from store.db import Database
from store.users import add_user, create_token
from support.kanal_server import kanal_server
from support.local_server import free_port
from support.waiting import until
from triage.action_requests import Verify

ANSWER = "Lampu PJU di depan balai desa sudah kami ganti."
PHOTO = png(180, 100)
LINK = re.compile(r"- lampu\.png: (http://\S+)")


@pytest.fixture
async def gateway() -> AsyncIterator[FakeSmsGateway]:
    server = await FakeSmsGateway().start()
    yield server
    await server.stop()


@pytest.fixture
async def kanal(
    db: Database,
    tmp_path: Path,
    clock: FixedClock,
    gateway: FakeSmsGateway,
) -> AsyncIterator[Kanal]:
    port = free_port()
    document: dict[str, Any] = {
        "data_dir": str(tmp_path / "data"),
        "database": {"url": db.url},
        "server": {"public_url": f"http://127.0.0.1:{port}", "secret": "uji-rahasia-tautan"},
        "channels": {
            "sms": {
                "enabled": True,
                "acknowledge": False,
                "api_base": gateway.api_base,
                "username": gateway.username,
                "password": gateway.password,
                "signing_key": KEY,
                "device_id": DEVICE,
            }
        },
        "opd": [{"code": "PUPR", "name": "Dinas Pekerjaan Umum dan Penataan Ruang"}],
        "category": [{"code": "pju", "name": "Lampu jalan", "opd": "PUPR", "keywords": ["lampu"]}],
        "triage": {"opd_answers": "direct"},
    }
    settings = parse_settings(document, tmp_path / "config.toml")
    runtime = build_runtime(settings, tmp_path, db, clock=clock)
    async with kanal_server(runtime, port) as server, aiohttp.ClientSession() as http:
        yield Kanal(runtime, db, str(server.make_url("/webhooks/sms")), http, clock)


async def test_the_answer_links_its_photo_and_only_the_signed_link_opens_it(
    kanal: Kanal, gateway: FakeSmsGateway, clock: FixedClock
) -> None:
    ticket = await kanal.report()
    kanal.runtime.actions.apply(ticket.number, Verify(category="pju", forward=True), "op1")
    await until(lambda: len(gateway.sent) >= 1 or None)  # the forwarding
    with kanal.db.write() as session:
        add_user(session, "pupr1", "rahasia-sekali", "opd", opd="PUPR", now=clock())
        token = create_token(session, "pupr1", now=clock())
    form = aiohttp.FormData()
    form.add_field("body", json.dumps({"action": "answer", "message": ANSWER}))
    form.add_field("files", PHOTO, filename="lampu.png", content_type="image/png")
    api = kanal.url.replace("/webhooks/sms", f"/api/tickets/{ticket.number}/actions")
    async with kanal.http.post(api, data=form, headers={"Authorization": f"Bearer {token}"}) as r:
        assert r.status == 200, await r.text()

    await until(lambda: len(gateway.sent) >= 2 or None)
    text = gateway.sent[1]["textMessage"]["text"]
    assert text.startswith(f"{ANSWER}\n\nLampiran:\n- lampu.png: http://127.0.0.1:")
    found = LINK.search(text)
    assert found
    link = found.group(1)
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/files/\d+/[A-Za-z0-9_-]{43}", link)

    async with aiohttp.ClientSession() as stranger:  # no session, no token: only the link
        async with stranger.get(link) as opened:
            assert (opened.status, opened.content_type) == (200, "image/png")
            assert await opened.read() == PHOTO
        attachment_id, signed = link.rsplit("/", 2)[-2:]
        changed = signed[:-1] + ("A" if signed[-1] != "A" else "B")
        other_id = str(int(attachment_id) + 1)
        for wrong in (
            f"{link.rsplit('/', 1)[0]}/{changed}",  # a guessed token
            link.replace(f"/files/{attachment_id}/", f"/files/{other_id}/"),  # another file
            link.replace(f"/files/{attachment_id}/", "/files/99999999999999999999/"),
        ):
            async with stranger.get(wrong) as refused:
                assert refused.status == 404, wrong
