"""WhatsApp through Kanal's own wiring: report in by webhook, reply out by the outbox, receipt in.

Uses runtime.py exactly as `kanal serve` does, with the fake Cloud API in place of Graph.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from conftest import FixedClock
from fakes.whatsapp_cloud import FakeWhatsAppCloud, post_webhook, status_webhook
from sqlmodel import select
from test_whatsapp_parse import OUR_ACCOUNT, all_cases

from runtime import build_runtime
from settings import parse_settings
from store.db import Database
from store.models import Message, OutboxItem, Ticket
from triage.actions import ActionRequest
from triage.states import Action

APP_SECRET = "e2e-app-secret"
REPLY = "Terima kasih, laporan Anda sedang kami periksa."


@pytest.fixture
async def fake() -> AsyncIterator[FakeWhatsAppCloud]:
    server = await FakeWhatsAppCloud().start()
    yield server
    await server.stop()


async def until(check: Any) -> Any:
    """Wait for a condition the background outbox brings about (bounded by a timeout)."""
    async with asyncio.timeout(10):
        # The outbox commits from its own worker thread: there is no event to wait on.
        while not (found := await asyncio.to_thread(check)):  # noqa: ASYNC110
            await asyncio.sleep(0.02)
    return found


async def test_report_reply_and_receipt(
    db: Database, tmp_path: Path, clock: FixedClock, fake: FakeWhatsAppCloud
) -> None:
    document: dict[str, Any] = {
        "data_dir": str(tmp_path / "data"),
        "database": {"url": db.url},
        "channels": {
            "whatsapp": {
                "enabled": True,
                "verify_token": "e2e-verify",
                "app_secret": APP_SECRET,
                "access_token": fake.access_token,
                "phone_number_id": OUR_ACCOUNT,
                "api_base": fake.api_base,
            }
        },
    }
    settings = parse_settings(document, tmp_path / "config.toml")
    runtime = build_runtime(settings, tmp_path, db, clock=clock)
    server = TestServer(await runtime.web_app())
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as http:
            url = str(server.make_url("/webhooks/whatsapp"))
            body = all_cases()["fixtures/text__indonesian_unicode"]
            assert await post_webhook(http, url, body, APP_SECRET) == (200, "ok")
            with db.read() as session:
                ticket = session.exec(select(Ticket)).one()

            runtime.actions.apply(
                ticket.number, ActionRequest(Action.REPLY, message=REPLY), actor="operator1"
            )

            def sent() -> Message | None:
                with db.read() as session:
                    return session.exec(
                        select(Message).where(
                            Message.direction == "out", Message.platform_message_id.is_not(None)
                        )
                    ).first()

            out = await until(sent)
            assert out.platform_message_id == "wamid.FAKE00000001"
            [request] = fake.sent
            inbound = json.loads(body)["entry"][0]["changes"][0]["value"]["messages"][0]
            assert request["type"] == "text"  # the report is an hour old: inside the window
            assert request["to"] == inbound["from"]
            assert request["text"]["body"] == REPLY
            assert request["context"] == {"message_id": inbound["id"]}
            with db.read() as session:
                outbox = session.exec(select(OutboxItem)).one()
            assert request["biz_opaque_callback_data"] == outbox.idempotency_key

            receipt = status_webhook(OUR_ACCOUNT, out.platform_message_id, "read")
            assert await post_webhook(http, url, receipt, APP_SECRET) == (200, "ok")
            with db.read() as session:
                assert session.get(Message, out.id).delivery_state == "read"
    finally:
        await server.close()
