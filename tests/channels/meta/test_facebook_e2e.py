"""Facebook through Kanal's own wiring: polled by the runtime, answered through the outbox."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlmodel import select
from test_facebook_poll import SRI

from conftest import FixedClock, corpus_dir
from fake_meta_graph import FakeGraph
from fake_meta_graph_seed import FB_PAGE, seed_facebook
from runtime import Runtime, build_runtime
from settings import parse_settings
from store.db import Database
from store.models import DeliveryReceipt, Message, OutboxItem, Ticket
from support.kanal_server import kanal_server
from support.waiting import until
from triage.action_requests import Reply

REPLY = "Terima kasih, laporan Anda sedang kami periksa."
COMMENT = "10158407654328553_10158414644018553"
T = TypeVar("T")


@pytest.fixture
async def graph(clock: FixedClock) -> AsyncIterator[FakeGraph]:
    fake = await FakeGraph(clock=clock).start()
    seed_facebook(fake, corpus_dir("facebook"), clock())
    yield fake
    await fake.stop()


@pytest.fixture
async def runtime(
    db: Database, tmp_path: Path, clock: FixedClock, graph: FakeGraph
) -> AsyncIterator[Runtime]:
    document: dict[str, Any] = {
        "data_dir": str(tmp_path / "data"),
        "database": {"url": db.url},
        "channels": {
            "facebook": {
                "enabled": True,
                "acknowledge": False,  # these tests follow operator replies alone
                "page_id": FB_PAGE,
                "access_token": graph.access_token,
                "api_base": graph.api_base,
                "poll_interval": "0.05s",
                "sources": ["messages", "comments"],
                "request_pause": "0s",
            }
        },
    }
    settings = parse_settings(document, tmp_path / "config.toml")
    kanal = build_runtime(settings, tmp_path, db, clock=clock)
    async with kanal_server(kanal):
        yield kanal


def ticket_with(db: Database, external_id: str) -> Ticket | None:
    with db.read() as session:
        message = session.exec(select(Message).where(Message.external_id == external_id)).first()
        return session.get(Ticket, message.ticket_id) if message else None


def outbound(db: Database, ticket: Ticket) -> Message | None:
    with db.read() as session:
        query = select(Message).where(Message.ticket_id == ticket.id, Message.direction == "out")
        found = session.exec(query).first()
        return found if found is not None and found.platform_message_id else None


def receipt(db: Database, platform_id: str) -> DeliveryReceipt | None:
    with db.read() as session:
        query = select(DeliveryReceipt).where(DeliveryReceipt.platform_message_id == platform_id)
        return session.exec(query).first()


async def test_a_dm_report_is_answered_in_messenger(
    runtime: Runtime, db: Database, graph: FakeGraph
) -> None:
    ticket = await until(lambda: ticket_with(db, "m_SriWahyuni02_lokasi"))
    runtime.actions.apply(ticket.number, Reply(message=REPLY), "operator1")

    sent = await until(lambda: outbound(db, ticket))
    assert (sent.platform_message_id, sent.delivery_state) == ("m_fake1", "sent")
    [call] = graph.posted("messages")
    assert call.body == {
        "recipient": {"id": SRI},
        "message": {"text": REPLY},
        "messaging_type": "RESPONSE",
    }
    # The poller then sees the Page's message in the conversation: a receipt, not a report.
    seen = await until(lambda: receipt(db, "m_fake1"))
    assert seen.state == "sent"
    with db.read() as session:
        inbound = session.exec(select(Message).where(Message.direction == "in")).all()
        assert "m_fake1" not in {m.external_id for m in inbound}
        assert session.exec(select(OutboxItem)).one().state == "sent"


async def test_a_comment_report_gets_the_configured_private_reply(
    runtime: Runtime, db: Database, graph: FakeGraph
) -> None:
    ticket = await until(lambda: ticket_with(db, f"comment:{COMMENT}"))
    runtime.actions.apply(ticket.number, Reply(message=REPLY), "operator1")

    sent = await until(lambda: outbound(db, ticket))
    assert sent.reply_to == f"comment:{COMMENT}"
    [call] = graph.posted("messages")
    assert call.body == {"recipient": {"comment_id": COMMENT}, "message": {"text": REPLY}}
    assert sent.platform_message_id == "m_fake1"
