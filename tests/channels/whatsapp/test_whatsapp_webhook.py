"""The WhatsApp webhook through HTTP with the real intake, checked in the database.

Deliveries are signed and serialised as Meta does (fake_whatsapp_cloud.py); media comes
from the fake Cloud API. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlmodel import select
from test_whatsapp_parse import EXPECTED, HASHED, OUR_ACCOUNT, all_cases, case_ids, parse

from channels.base import DeliveryStatus, InboundMessage, MessageUpdate, UnsupportedEvent
from channels.whatsapp.channel import WhatsAppChannel, WhatsAppConfig
from conftest import FixedClock
from fake_whatsapp_cloud import FakeWhatsAppCloud
from fake_whatsapp_webhooks import post_webhook, status_webhook, webhook_bytes
from store.db import Database
from store.models import Attachment as AttachmentRow
from store.models import Message, RawEvent, Reporter, Ticket
from triage.intake import Intake

APP_SECRET = "meta-app-secret-for-tests"
VERIFY_TOKEN = "kanal-verify-token"
PHOTO = b"\xff\xd8\xff\xe0" + b"foto jalan berlubang di Pati" + b"\xff\xd9"
PDF = b"%PDF-1.4\n% surat keterangan RT\n%%EOF\n"
PHOTO_SHA = hashlib.sha256(PHOTO).hexdigest()


@dataclass
class Harness:
    url: str
    http: aiohttp.ClientSession
    channel: WhatsAppChannel
    fake: FakeWhatsAppCloud
    data_dir: Path

    async def post(self, body: bytes | dict[str, Any], secret: str | None = APP_SECRET) -> int:
        status, _ = await post_webhook(self.http, self.url, body, secret)
        return status


@pytest.fixture
async def fake() -> AsyncIterator[FakeWhatsAppCloud]:
    server = await FakeWhatsAppCloud().start()
    yield server
    await server.stop()


def make_config(fake: FakeWhatsAppCloud, **overrides: Any) -> WhatsAppConfig:
    values: dict[str, Any] = {
        "enabled": True,
        "verify_token": VERIFY_TOKEN,
        "app_secret": APP_SECRET,
        "access_token": fake.access_token,
        "phone_number_id": OUR_ACCOUNT,
        "api_base": fake.api_base,
        "media_retry_delay": "10ms",
    }
    return WhatsAppConfig.model_validate(values | overrides)


async def serve(
    config: WhatsAppConfig, sink: Any, tmp_path: Path, clock: FixedClock, fake: FakeWhatsAppCloud
) -> tuple[Harness, Callable[[], Awaitable[None]]]:
    http = aiohttp.ClientSession()
    channel = WhatsAppChannel(config, tmp_path, http, clock)
    await channel.start(sink)
    app = web.Application()
    app.router.add_routes(channel.routes())
    server = TestServer(app)
    await server.start_server()

    async def close() -> None:
        await channel.stop()
        await server.close()
        await http.close()

    harness = Harness(str(server.make_url("/webhooks/whatsapp")), http, channel, fake, tmp_path)
    return harness, close


@pytest.fixture
async def wa(
    intake: Intake, tmp_path: Path, clock: FixedClock, fake: FakeWhatsAppCloud
) -> AsyncIterator[Harness]:
    harness, close = await serve(make_config(fake), intake, tmp_path, clock, fake)
    yield harness
    await close()


def rows(db: Database, model: Any) -> list[Any]:
    with db.read() as session:
        return list(session.exec(select(model).order_by(model.id)))


async def media_settled(db: Database, wa: Harness) -> list[AttachmentRow]:
    """Wait until the channel has no media task left, then read the attachments."""
    async with asyncio.timeout(10):
        await wa.channel.media.wait_idle()
    return rows(db, AttachmentRow)


# --- every case, end to end -------------------------------------------------------------------


@pytest.mark.parametrize("case", case_ids())
async def test_every_case_is_stored_as_parsed(case: str, wa: Harness, db: Database) -> None:
    body = all_cases()[case]
    assert await wa.post(body) == 200
    items = parse(body)
    attachments = await media_settled(db, wa)

    raws = {r.external_id: r for r in rows(db, RawEvent)}
    messages = rows(db, Message)
    inbound = [i for i in items if isinstance(i, InboundMessage)]
    assert len(raws) == len(items)
    assert len(messages) == len(inbound)
    for item in items:
        if isinstance(item, DeliveryStatus):
            key = f"status:{item.platform_message_id}:{item.state.value}"
        else:
            key = item.external_id
        raw = raws[key]
        assert (raw.channel, raw.account, raw.payload) == ("whatsapp", item.account, item.raw)
        if isinstance(item, UnsupportedEvent):
            assert (raw.kind, raw.error) == (item.kind[:40], item.reason)
        if isinstance(item, MessageUpdate):
            assert raw.kind == item.kind.value
    if case in HASHED:
        assert raws[next(iter(raws))].kind == HASHED[case][0]
        return
    assert [m.external_id for m in messages] == [
        m.external_id for m in EXPECTED[case] if isinstance(m, InboundMessage)
    ]
    tickets = {t.id: t for t in rows(db, Ticket)}
    reporters = {r.id: r for r in rows(db, Reporter)}
    for expected, row in zip(inbound, messages, strict=True):
        assert_message_row(row, expected, raws[expected.external_id].id)
        ticket = tickets[row.ticket_id]
        assert (ticket.channel, ticket.account, ticket.status) == (
            "whatsapp",
            expected.account,
            "new",
        )
        reporter = reporters[ticket.reporter_id]
        assert (reporter.channel, reporter.sender_id, reporter.display_name, reporter.contact) == (
            "whatsapp",
            expected.sender_id,
            expected.display_name,
            expected.contact,
        )
    expected_attachments = [a for m in inbound for a in m.attachments]
    assert len(attachments) == len(expected_attachments)
    for row, announced in zip(attachments, expected_attachments, strict=True):
        assert (row.kind, row.mime_type, row.media_ref, row.file_name, row.caption) == (
            announced.kind.value,
            announced.mime_type,
            announced.media_ref,
            announced.file_name,
            announced.caption,
        )
        # The fake knows none of the corpus' media ids: Graph answers 400, which is not retried.
        assert row.fetch_state == "failed"
        assert row.fetch_error.startswith("media lookup HTTP 400")
        assert row.stored_path is None


def assert_message_row(row: Message, expected: InboundMessage, raw_id: int) -> None:
    location = expected.location
    assert {
        "direction": row.direction,
        "channel": row.channel,
        "account": row.account,
        "external_id": row.external_id,
        "sender_id": row.sender_id,
        "text": row.text,
        "subject": row.subject,
        "reply_to": row.reply_to,
        "forwarded": row.forwarded,
        "parse_error": row.parse_error,
        "sent_at": row.sent_at,
        "latitude": row.latitude,
        "longitude": row.longitude,
        "location_name": row.location_name,
        "location_address": row.location_address,
        "raw_event_id": row.raw_event_id,
    } == {
        "direction": "in",
        "channel": "whatsapp",
        "account": expected.account,
        "external_id": expected.external_id,
        "sender_id": expected.sender_id,
        "text": expected.text,
        "subject": expected.subject,
        "reply_to": expected.reply_to,
        "forwarded": expected.forwarded,
        "parse_error": expected.parse_error,
        "sent_at": expected.sent_at,
        "latitude": location.latitude if location else None,
        "longitude": location.longitude if location else None,
        "location_name": location.name if location else None,
        "location_address": location.address if location else None,
        "raw_event_id": raw_id,
    }


# --- delivery semantics -----------------------------------------------------------------------


async def test_a_repeated_delivery_is_stored_once(wa: Harness, db: Database) -> None:
    body = all_cases()["fixtures/batch__two_entries_messages_and_status"]
    assert await wa.post(body) == 200
    assert await wa.post(body) == 200
    assert len(rows(db, RawEvent)) == 3
    assert len(rows(db, Message)) == 2
    assert len(rows(db, Ticket)) == 2


def text_body(n: int) -> dict[str, Any]:
    body = json.loads(all_cases()["fixtures/text__indonesian_unicode"])
    value = body["entry"][0]["changes"][0]["value"]
    value["contacts"][0]["wa_id"] = value["messages"][0]["from"] = f"62812000{n:05d}"
    value["messages"][0]["id"] = f"wamid.CONCURRENT{n:05d}"
    value["messages"][0]["text"]["body"] = f"Laporan nomor {n}"
    return body


async def test_concurrent_deliveries_each_commit_before_their_answer(
    wa: Harness, db: Database
) -> None:
    bodies = [text_body(n) for n in range(20)]
    statuses = await asyncio.gather(*(wa.post(b) for b in bodies + bodies[:5]))
    assert statuses == [200] * 25
    messages = rows(db, Message)
    assert sorted(m.external_id for m in messages) == [
        f"wamid.CONCURRENT{n:05d}" for n in range(20)
    ]
    assert sorted(m.text for m in messages) == sorted(f"Laporan nomor {n}" for n in range(20))
    numbers = [t.number for t in rows(db, Ticket)]
    assert len(numbers) == len(set(numbers)) == 20


# --- authentication ---------------------------------------------------------------------------


@pytest.mark.parametrize("secret", [None, "not-the-app-secret"])
async def test_unsigned_or_badly_signed_deliveries_are_refused_and_not_stored(
    secret: str | None, wa: Harness, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    body = all_cases()["corpus/message/text"]
    assert await wa.post(body, secret) == 401
    assert rows(db, RawEvent) == []
    assert APP_SECRET not in caplog.text
    assert "signature" in caplog.text


async def test_a_signature_over_other_bytes_is_refused(wa: Harness, db: Database) -> None:
    """Re-serialising the JSON changes the bytes: only the exact bytes Meta signed count."""
    body = all_cases()["fixtures/text__indonesian_unicode"]
    pretty = json.dumps(json.loads(body), ensure_ascii=False).encode()
    status, _ = await post_webhook(
        wa.http,
        wa.url,
        pretty,
        None,
        headers={"X-Hub-Signature-256": "sha256=" + signed(body)},
    )
    assert status == 401
    assert rows(db, RawEvent) == []


def signed(body: bytes) -> str:
    return hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()


async def test_the_verification_handshake_echoes_the_challenge(wa: Harness) -> None:
    query = {
        "hub.mode": "subscribe",
        "hub.verify_token": VERIFY_TOKEN,
        "hub.challenge": "1158201444",
    }
    async with wa.http.get(wa.url, params=query) as resp:
        assert resp.status == 200
        assert resp.content_type == "text/plain"
        assert await resp.text() == "1158201444"


@pytest.mark.parametrize(
    "query",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"},
        {"hub.mode": "subscribe", "hub.challenge": "1"},
    ],
)
async def test_a_wrong_handshake_is_refused(query: dict[str, str], wa: Harness) -> None:
    async with wa.http.get(wa.url, params=query) as resp:
        assert resp.status == 403
        assert "1" not in await resp.text()


# --- bodies that are not what they should be --------------------------------------------------


@pytest.mark.parametrize(
    ("case", "kind"),
    [
        ("fixtures/invalid__truncated", "invalid_json"),
        ("fixtures/not_whatsapp__page_object", "not_whatsapp"),
    ],
)
async def test_a_signed_body_that_is_no_whatsapp_webhook_is_kept(
    case: str, kind: str, wa: Harness, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="channels.whatsapp.channel")
    body = all_cases()[case]
    assert await wa.post(body) == 200
    assert await wa.post(body) == 200  # Meta's retry of it is stored once
    [raw] = rows(db, RawEvent)
    assert raw.external_id == "body:" + hashlib.sha256(body).hexdigest()
    assert (raw.kind, raw.account, raw.payload) == (kind, OUR_ACCOUNT, {"body": body.decode()})
    assert raw.error
    assert rows(db, Message) == []
    assert f"account={OUR_ACCOUNT} external_id={raw.external_id}: {raw.error}" in caplog.text


async def test_an_oversized_body_is_refused_before_it_is_read(
    intake: Intake, tmp_path: Path, clock: FixedClock, fake: FakeWhatsAppCloud, db: Database
) -> None:
    harness, close = await serve(
        make_config(fake, max_body_bytes=1024), intake, tmp_path, clock, fake
    )
    try:
        body = text_body(1)
        body["entry"][0]["changes"][0]["value"]["messages"][0]["text"]["body"] = "x" * 2000
        raw = webhook_bytes(body)
        assert await harness.post(raw) == 413

        async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted while read
            for start in range(0, len(raw), 256):
                yield raw[start : start + 256]

        headers = {"X-Hub-Signature-256": "sha256=" + signed(raw)}
        async with harness.http.post(harness.url, data=chunks(), headers=headers) as resp:
            assert resp.status == 413
        assert await harness.post(webhook_bytes(text_body(2))) == 200
    finally:
        await close()
    assert [m.external_id for m in rows(db, Message)] == ["wamid.CONCURRENT00002"]


async def test_an_unavailable_database_answers_503_so_meta_retries(
    tmp_path: Path, clock: FixedClock, fake: FakeWhatsAppCloud
) -> None:
    down = Database("postgresql+psycopg://postgres@127.0.0.1:9/kanal_is_down")
    sink = Intake(down, clock=clock)
    await sink.start()
    harness, close = await serve(make_config(fake), sink, tmp_path, clock, fake)
    try:
        assert await harness.post(all_cases()["corpus/message/text"]) == 503
    finally:
        await close()
        await sink.stop()
        down.dispose()


async def test_secrets_stay_out_of_reprs(wa: Harness) -> None:
    config = wa.channel.config
    for text in (repr(wa.channel), repr(config), str(config), repr(wa.channel.media)):
        for secret in (APP_SECRET, VERIFY_TOKEN, wa.fake.access_token):
            assert secret not in text


# --- delivery statuses of what we sent --------------------------------------------------------


def insert_outbound(db: Database, clock: FixedClock, wamid: str) -> int:
    now = clock()
    with db.write() as session:
        reporter = Reporter(channel="whatsapp", sender_id="6281234567890", created_at=now)
        session.add(reporter)
        session.flush()
        ticket = Ticket(
            number="LBP-2026-00001",
            channel="whatsapp",
            account=OUR_ACCOUNT,
            reporter_id=reporter.id,
            created_at=now,
            last_activity_at=now,
        )
        session.add(ticket)
        session.flush()
        message = Message(
            ticket_id=ticket.id,
            direction="out",
            channel="whatsapp",
            account=OUR_ACCOUNT,
            external_id="out-1",
            platform_message_id=wamid,
            author="operator1",
            text="Terima kasih, laporan Anda kami teruskan ke DPUPR.",
            sent_at=now,
            received_at=now,
            delivery_state="sent",
        )
        session.add(message)
        session.flush()
        assert message.id is not None
        return message.id


async def test_statuses_move_the_outbound_message_forward(
    wa: Harness, db: Database, clock: FixedClock
) -> None:
    wamid = "wamid.HBgNNjI4MTIzNDU2Nzg5MBUCABEYEjVCNEM5RDhFN0YyQTFCMzA0NgA="
    insert_outbound(db, clock, wamid)

    def state() -> tuple[Any, ...]:
        [row] = rows(db, Message)
        return row.delivery_state, row.error_code, row.error_message

    assert await wa.post(status_webhook(OUR_ACCOUNT, wamid, "delivered")) == 200
    assert state() == ("delivered", None, None)
    assert await wa.post(status_webhook(OUR_ACCOUNT, wamid, "sent")) == 200  # late, out of order
    assert state() == ("delivered", None, None)
    assert await wa.post(all_cases()["fixtures/status__failed_re_engagement"]) == 200
    assert state() == (
        "failed",
        "131047",
        "Re-engagement message: Message failed to send because more than 24 hours have passed "
        "since the customer last replied to this number.",
    )


# --- media ------------------------------------------------------------------------------------


async def test_media_is_fetched_checked_and_linked(wa: Harness, db: Database) -> None:
    wa.fake.add_media("1481726922764521", PHOTO, "image/jpeg")
    wa.fake.add_media("902375561189410", PDF, "application/pdf")
    assert await wa.post(all_cases()["fixtures/image__caption_sha256"]) == 200
    assert await wa.post(all_cases()["fixtures/document__pdf_with_filename"]) == 200
    photo, pdf = await media_settled(db, wa)

    assert (photo.fetch_state, photo.fetch_error) == ("stored", None)
    assert photo.stored_path == f"media/whatsapp/{PHOTO_SHA[:2]}/{PHOTO_SHA}.jpg"
    assert (wa.data_dir / photo.stored_path).read_bytes() == PHOTO
    assert (photo.sha256, photo.size, photo.mime_type) == (PHOTO_SHA, len(PHOTO), "image/jpeg")
    pdf_sha = hashlib.sha256(PDF).hexdigest()
    assert pdf.stored_path == f"media/whatsapp/{pdf_sha[:2]}/{pdf_sha}.pdf"
    assert (wa.data_dir / pdf.stored_path).read_bytes() == PDF
    assert (pdf.fetch_state, pdf.sha256, pdf.size) == ("stored", pdf_sha, len(PDF))
    assert wa.fake.count("GET", "/v23.0/") == 2
    assert wa.fake.count("GET", "/whatsapp_business/attachments/") == 2
    assert all(r.authorization == f"Bearer {wa.fake.access_token}" for r in wa.fake.received)
    assert list((wa.data_dir / "media" / "whatsapp").glob(".part-*")) == []


async def test_a_passing_download_failure_is_retried(wa: Harness, db: Database) -> None:
    media = wa.fake.add_media("1481726922764521", PHOTO, "image/jpeg")
    media.download_failures = [503]
    media.lookup_failures = [500]
    assert await wa.post(all_cases()["fixtures/image__caption_sha256"]) == 200
    [photo] = await media_settled(db, wa)
    assert (photo.fetch_state, photo.sha256) == ("stored", PHOTO_SHA)
    assert wa.fake.count("GET", "/v23.0/") == 3
    assert wa.fake.count("GET", "/whatsapp_business/attachments/") == 2


async def test_a_failing_download_is_recorded_on_the_attachment(wa: Harness, db: Database) -> None:
    media = wa.fake.add_media("1481726922764521", PHOTO, "image/jpeg")
    media.download_failures = [503, 503, 503]
    assert await wa.post(all_cases()["fixtures/image__caption_sha256"]) == 200
    [photo] = await media_settled(db, wa)
    assert photo.fetch_state == "failed"
    assert photo.fetch_error.startswith("media download HTTP 503")
    assert photo.stored_path is None
    assert wa.fake.count("GET", "/whatsapp_business/attachments/") == 3  # config: 3 attempts


async def test_media_whose_bytes_do_not_match_the_announced_sha256_is_refused(
    wa: Harness, db: Database
) -> None:
    wa.fake.add_media("1481726922764521", PHOTO + b"tampered", "image/jpeg")
    assert await wa.post(all_cases()["fixtures/image__caption_sha256"]) == 200
    [photo] = await media_settled(db, wa)
    assert photo.fetch_state == "failed"
    assert photo.fetch_error.startswith(f"sha256 mismatch: announced {PHOTO_SHA}")
    assert photo.sha256 == PHOTO_SHA  # what WhatsApp announced stays
    assert list((wa.data_dir / "media" / "whatsapp").rglob("*.jpg")) == []


async def test_stop_cancels_media_still_waiting(
    intake: Intake, tmp_path: Path, clock: FixedClock, fake: FakeWhatsAppCloud, db: Database
) -> None:
    config = make_config(fake, media_retry_delay="1h")
    harness, close = await serve(config, intake, tmp_path, clock, fake)
    media = fake.add_media("1481726922764521", PHOTO, "image/jpeg")
    media.download_failures = [503]
    assert await harness.post(all_cases()["fixtures/image__caption_sha256"]) == 200
    async with asyncio.timeout(5):
        await fake.wait_for("GET", "/whatsapp_business/attachments/", 1)
    assert harness.channel.media.pending == 1  # waiting an hour before its second attempt
    await close()
    assert harness.channel.media.pending == 0
    [photo] = rows(db, AttachmentRow)
    assert photo.fetch_state == "pending"  # left for a later fetch, never half-written

    # The next process picks up what this one left.
    restarted, close = await serve(make_config(fake), intake, tmp_path, clock, fake)
    async with asyncio.timeout(5):
        while not restarted.channel.media.pending and rows(db, AttachmentRow)[0].fetch_state == (
            "pending"
        ):
            await asyncio.sleep(0.01)
    [photo] = await media_settled(db, restarted)
    await close()
    assert (photo.fetch_state, photo.sha256, photo.size) == ("stored", PHOTO_SHA, len(PHOTO))


async def test_media_older_than_a_week_is_not_resumed(
    intake: Intake, tmp_path: Path, clock: FixedClock, fake: FakeWhatsAppCloud, db: Database
) -> None:
    harness, close = await serve(
        make_config(fake, media_retry_delay="1h"), intake, tmp_path, clock, fake
    )
    media = fake.add_media("1481726922764521", PHOTO, "image/jpeg")
    media.download_failures = [503]
    assert await harness.post(all_cases()["fixtures/image__caption_sha256"]) == 200
    async with asyncio.timeout(5):
        await fake.wait_for("GET", "/whatsapp_business/attachments/", 1)
    await close()
    clock.advance(timedelta(days=8))

    lookups = len(fake.received)
    _, close = await serve(make_config(fake), intake, tmp_path, clock, fake)
    await close()  # stop() waits for the resume step to finish
    assert len(fake.received) == lookups
    assert rows(db, AttachmentRow)[0].fetch_state == "pending"


async def test_media_answer_without_token_is_refused_by_the_fake(
    fake: FakeWhatsAppCloud,
) -> None:
    fake.add_media("1", PHOTO)
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{fake.api_base}/1") as resp:
            assert resp.status == 401
            error = (await resp.json())["error"]
    assert (error["code"], error["type"]) == (190, "OAuthException")
    assert error["fbtrace_id"]


def photos_body(count: int) -> dict[str, Any]:
    body = json.loads(all_cases()["fixtures/image__caption_sha256"])
    value = body["entry"][0]["changes"][0]["value"]
    template = value["messages"][0]
    value["messages"] = [
        template | {"id": f"wamid.PHOTO{n}", "image": template["image"] | {"id": f"77{n:04d}"}}
        for n in range(count)
    ]
    return body


async def test_a_burst_of_photos_is_fetched_a_few_at_a_time(wa: Harness, db: Database) -> None:
    for n in range(10):
        wa.fake.add_media(f"77{n:04d}", PHOTO, "image/jpeg")
    wa.fake.download_gate = asyncio.Event()
    assert await wa.post(photos_body(10)) == 200  # answered while every download still waits
    async with asyncio.timeout(10):
        await wa.fake.wait_for("GET", "/whatsapp_business/attachments/", 4)
    wa.fake.download_gate.set()
    attachments = await media_settled(db, wa)
    assert [a.fetch_state for a in attachments] == ["stored"] * 10
    assert wa.fake.most_downloads_in_flight == 4  # config media_concurrency, default 4
    # Ten messages, one photo: stored once under its content's name.
    assert {a.stored_path for a in attachments} == {
        f"media/whatsapp/{PHOTO_SHA[:2]}/{PHOTO_SHA}.jpg"
    }


async def test_media_announced_over_the_size_limit_is_not_downloaded(
    intake: Intake, tmp_path: Path, clock: FixedClock, fake: FakeWhatsAppCloud, db: Database
) -> None:
    harness, close = await serve(
        make_config(fake, max_media_bytes=16), intake, tmp_path, clock, fake
    )
    try:
        fake.add_media("1481726922764521", PHOTO, "image/jpeg")
        assert await harness.post(all_cases()["fixtures/image__caption_sha256"]) == 200
        [photo] = await media_settled(db, harness)
    finally:
        await close()
    assert photo.fetch_state == "failed"
    assert photo.fetch_error == f"media of {len(PHOTO)} bytes is over 16"
    assert fake.count("GET", "/v23.0/") == 1  # not retried: it will not shrink
    assert fake.count("GET", "/whatsapp_business/attachments/") == 0
