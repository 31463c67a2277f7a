"""X through Kanal's own wiring (runtime.py, as `kanal serve`): a mention polled in, the
operator's reply out by the outbox as a reply tweet, and the reporter's answer to it threaded."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlmodel import col, select

from conftest import FixedClock, corpus_dir
from fake_x_api import FakeXApi, load_corpus
from runtime import Runtime, build_runtime
from settings import parse_settings
from store.db import Database
from store.models import Message, Ticket
from support.kanal_server import kanal_server
from support.waiting import until
from triage.action_requests import Reply

ACCOUNT = "783214"
ALICE = "1500000000000000001"
REPLY = "Terima kasih, laporan Anda kami teruskan ke Dinas PUPR."
T = TypeVar("T")


@pytest.fixture
async def fake(clock: FixedClock) -> AsyncIterator[FakeXApi]:
    server = await FakeXApi(load_corpus(corpus_dir("twitter")), clock, me=ACCOUNT).start()
    server.add_user(ALICE, "alice_pati", "Alice Rahayu")
    yield server
    await server.stop()


@pytest.fixture
async def runtime(
    db: Database, tmp_path: Path, clock: FixedClock, fake: FakeXApi
) -> AsyncIterator[Runtime]:
    document: dict[str, Any] = {
        "data_dir": str(tmp_path / "data"),
        "database": {"url": db.url},
        "channels": {
            "x": {
                "enabled": True,
                "user_id": ACCOUNT,
                "bearer_token": "AAAA-bearer",
                "consumer_key": "ck",
                "consumer_secret": "cs",
                "access_token": "at",
                "access_token_secret": "ats",
                "poll_interval": "50ms",
                "api_base": fake.api_base,
            }
        },
    }
    settings = parse_settings(document, tmp_path / "config.toml")
    built = build_runtime(settings, tmp_path, db, clock=clock)
    async with kanal_server(built):
        yield built


def messages(db: Database, direction: str) -> list[Message]:
    with db.read() as session:
        query = select(Message).where(Message.direction == direction).order_by(col(Message.id))
        return list(session.exec(query).all())


async def test_mention_reply_tweet_and_the_reporters_answer_in_one_ticket(
    runtime: Runtime, db: Database, fake: FakeXApi
) -> None:
    mention = fake.mention(ACCOUNT, ALICE, "@pemkab jembatan Desa Kayen retak")
    (first,) = await until(lambda: messages(db, "in"))
    with db.read() as session:
        ticket = session.get(Ticket, first.ticket_id)
    assert (ticket.channel, ticket.account, ticket.summary != "") == ("x", ACCOUNT, True)

    runtime.actions.apply(ticket.number, Reply(message=REPLY), "operator1")
    (out,) = await until(lambda: [m for m in messages(db, "out") if m.platform_message_id])
    (request,) = fake.of("POST", "/2/tweets")
    assert request.body == {"text": REPLY, "reply": {"in_reply_to_tweet_id": mention["id"]}}
    assert request.auth == "oauth1"
    assert out.delivery_state == "sent"
    assert fake.tweets[out.platform_message_id]["text"] == REPLY

    # Alice answers under our reply tweet: the answer joins her ticket by the tweet it replies to.
    answer = fake.mention(
        ACCOUNT, ALICE, "@pemkab terima kasih, ditunggu", reply_to=out.platform_message_id
    )
    await until(lambda: len(messages(db, "in")) == 2)
    second = messages(db, "in")[1]
    assert (second.external_id, second.ticket_id) == (answer["id"], ticket.id)
    assert second.reply_to == out.platform_message_id
    assert second.references == [mention["id"]]  # the conversation it belongs to
