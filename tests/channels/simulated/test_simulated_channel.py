"""The simulated channel through Kanal's own wiring: `simulate`'s sample reports are answered,
the reply is "sent" nowhere, then reported delivered, and the demo outbox page lists it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlmodel import select

from channels.simulated.reports import sample_reports
from conftest import FixedClock
from inbox_site import PASSWORD, Browser
from runtime import Runtime, build_runtime
from settings import parse_settings
from store.db import Database
from store.models import Message, Ticket
from store.users import add_user
from support.waiting import until
from triage.action_requests import Reply

REPLY = "Terima kasih, laporan Anda sedang kami periksa."
T = TypeVar("T")


async def running(
    db: Database, tmp_path: Path, clock: FixedClock, simulated: dict[str, Any]
) -> AsyncIterator[tuple[Runtime, Browser]]:
    document = {
        "data_dir": str(tmp_path / "data"),
        "database": {"url": db.url},
        "channels": {"simulated": simulated},
    }
    runtime = build_runtime(
        parse_settings(document, tmp_path / "config.toml"), tmp_path, db, clock=clock
    )
    with db.write() as session:
        add_user(session, "operator1", PASSWORD, "operator", now=clock())
    server = TestServer(await runtime.web_app())
    await server.start_server()
    jar = aiohttp.CookieJar(unsafe=True)  # 127.0.0.1 is an IP address
    try:
        async with aiohttp.ClientSession(
            base_url=str(server.make_url("/")), cookie_jar=jar
        ) as http:
            browser = Browser(http)
            assert (await browser.sign_in("operator1")).status == 303
            yield runtime, browser
    finally:
        await server.close()


@pytest.fixture
async def kanal(db: Database, tmp_path: Path, clock: FixedClock) -> AsyncIterator[Any]:
    async for parts in running(db, tmp_path, clock, {"enabled": True, "delivered_after": "0.3s"}):
        yield parts


@pytest.fixture
async def kanal_without_demo(db: Database, tmp_path: Path, clock: FixedClock) -> AsyncIterator[Any]:
    async for parts in running(db, tmp_path, clock, {"enabled": False}):
        yield parts


async def answer_a_sample(runtime: Runtime, db: Database, clock: FixedClock) -> Ticket:
    [sample] = sample_reports(1, now=clock(), seed=5, channel="simulated")
    await runtime.intake.submit([sample])
    with db.read() as session:
        ticket = session.exec(select(Ticket)).one()
    runtime.actions.apply(ticket.number, Reply(message=REPLY), actor="operator1")
    return ticket


def outbound(db: Database) -> Message | None:
    with db.read() as session:
        return session.exec(select(Message).where(Message.direction == "out")).first()


async def test_a_reply_to_a_sample_report_is_sent_then_delivered_and_listed(
    kanal: tuple[Runtime, Browser], db: Database, clock: FixedClock
) -> None:
    runtime, browser = kanal
    ticket = await answer_a_sample(runtime, db, clock)
    assert (ticket.channel, ticket.account) == ("simulated", "simulasi")

    sent = await until(lambda: (m := outbound(db)) and m.delivery_state == "sent" and m)
    assert sent.platform_message_id and sent.platform_message_id.startswith("sim-out-")
    delivered = await until(lambda: (m := outbound(db)) and m.delivery_state == "delivered" and m)
    assert delivered.id == sent.id

    status, queue = await browser.page("/")
    assert status == 200 and 'href="/demo/outbox"' in queue
    status, page = await browser.page("/demo/outbox")
    assert status == 200
    assert f'data-ticket="{ticket.number}" data-state="delivered"' in page
    assert REPLY in page and "Kotak keluar demo" in page and "diterima" in page


async def test_with_the_demo_channel_off_a_sample_reply_waits_and_no_demo_link_shows(
    kanal_without_demo: tuple[Runtime, Browser], db: Database, clock: FixedClock
) -> None:
    runtime, browser = kanal_without_demo
    await answer_a_sample(runtime, db, clock)
    waiting = await until(lambda: (m := outbound(db)) and m.error_code == "disabled" and m)
    assert waiting.delivery_state == "queued"
    _, queue = await browser.page("/")
    assert 'href="/demo/outbox"' not in queue
    status, page = await browser.page("/demo/outbox")
    assert status == 200 and "Belum ada balasan" not in page  # the waiting reply is listed
