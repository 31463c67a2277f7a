"""The OPD's answer with files, end to end: the report through the WhatsApp webhook, the answer
with a photo and a letter through the ticket page's form, the outbox, and the fake Cloud API's
media upload and image/document messages; in "review" and in "direct" mode (issue 18, item 5).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import test_whatsapp_loops as loops
from sqlmodel import col, select
from test_whatsapp_loops import ANSWER, Kanal, forwarded_report
from yarl import URL

from conftest import FixedClock
from fake_whatsapp_cloud import SERVER_ERROR, FakeWhatsAppCloud
from inbox_site import PASSWORD, Browser, csrf_of, png
from store.models import Attachment, OutboxItem
from store.users import add_user
from support.waiting import until
from triage.action_requests import Resolve

# The loop tests' Kanal, its fake Cloud API and its settings, as fixtures of this module too.
fake = loops.fake
document = loops.document
kanal = loops.kanal

PHOTO = png(320, 200)
LETTER = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
async def liaison(kanal: Kanal) -> AsyncIterator[Browser]:
    """The PUPR liaison, signed in to the inbox in a browser of their own."""
    with kanal.db.write() as session:
        add_user(session, "pupr1", PASSWORD, "opd", opd="PUPR", now=kanal.clock())
    root = URL(kanal.url).with_path("/")
    jar = aiohttp.CookieJar(unsafe=True)  # 127.0.0.1 is an IP address
    async with aiohttp.ClientSession(base_url=root, cookie_jar=jar) as http:
        browser = Browser(http)
        assert (await browser.sign_in("pupr1")).status == 303
        yield browser


async def answer_with_files(
    browser: Browser, number: str, files: list[tuple[str, bytes, str]], message: str = ANSWER
) -> aiohttp.ClientResponse:
    """The ticket page's answer form, posted as the browser does: multipart with the CSRF."""
    _, html = await browser.page(f"/tickets/{number}")
    form = aiohttp.FormData()
    form.add_field("csrf", csrf_of(html))
    form.add_field("action", "answer")
    form.add_field("message", message)
    for name, data, declared in files:
        form.add_field("files", data, filename=name, content_type=declared)
    return await browser.http.post(f"/tickets/{number}/actions", data=form, allow_redirects=False)


async def sent_until(fake: FakeWhatsAppCloud, count: int) -> list[dict[str, Any]]:
    await until(lambda: len(fake.sent) >= count or None)
    await asyncio.sleep(0.1)  # nothing more should follow
    return fake.sent


def answer_attachments(kanal: Kanal, number: str) -> list[Attachment]:
    ids = [m.id for m in kanal.history(number) if m.direction == "out"]
    with kanal.db.read() as session:
        query = select(Attachment).where(col(Attachment.message_id).in_(ids))
        return list(session.exec(query.order_by(col(Attachment.id))))


def stored_answer_files(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "data" / "media" / "answers").rglob("*.*"))


def assert_media_sent(fake: FakeWhatsAppCloud, sent: list[dict[str, Any]]) -> None:
    """The photo as an image message, the letter as a document, each naming its upload."""
    photo, letter = fake.uploads
    assert (photo.file_name, photo.mime_type, photo.data) == ("jalan-baru.png", "image/png", PHOTO)
    assert (letter.file_name, letter.mime_type, letter.data) == (
        "surat-dinas.pdf",
        "application/pdf",
        LETTER,
    )
    image, document_ = sent
    assert (image["type"], image["image"], image["to"]) == (
        "image",
        {"id": photo.media_id},
        "6289876543210",
    )
    assert (document_["type"], document_["document"]) == (
        "document",
        {"id": letter.media_id, "filename": "surat-dinas.pdf"},
    )
    uploads = [r for r in fake.received if r.path.endswith("/media")]
    assert [(r.method, r.body) for r in uploads] == [
        ("POST", {"messaging_product": "whatsapp", "type": "image/png"}),
        ("POST", {"messaging_product": "whatsapp", "type": "application/pdf"}),
    ]


FILES = [
    ("jalan-baru.png", PHOTO, "image/png"),
    ("surat-dinas.pdf", LETTER, "application/pdf"),
]


async def test_in_review_the_files_wait_and_go_with_the_resolve(
    kanal: Kanal, fake: FakeWhatsAppCloud, liaison: Browser, tmp_path: Path
) -> None:
    number = await forwarded_report(kanal, fake)
    response = await answer_with_files(liaison, number, FILES)
    assert (response.status, response.headers["Location"]) == (
        303,
        f"/tickets/{number}?done=answer",
    )
    await asyncio.sleep(0.2)
    assert (len(fake.sent), fake.uploads) == (2, [])  # nothing to the reporter yet
    ticket = kanal.ticket(number)
    assert ticket.status == "answered"
    assert [(f["name"], f["mime_type"], f["size"]) for f in ticket.flags["opd_answer_files"]] == [
        ("jalan-baru.png", "image/png", len(PHOTO)),
        ("surat-dinas.pdf", "application/pdf", len(LETTER)),
    ]
    assert kanal.events(number)[-1].data == {
        "mode": "review",
        "opd": "PUPR",
        "files": ["jalan-baru.png", "surat-dinas.pdf"],
    }
    assert len(stored_answer_files(tmp_path)) == 2
    # The operator sees them on the ticket page before approving.
    status, html = await liaison.page(f"/tickets/{number}")
    assert status == 200 and 'id="opd-answer-files"' in html and "surat-dinas.pdf" in html
    shown = await liaison.http.get(f"/tickets/{number}/answer-files/0")
    assert (shown.status, await shown.read()) == (200, PHOTO)

    kanal.runtime.actions.apply(number, Resolve(), actor="op1")
    sent = await sent_until(fake, 6)  # the answer, its two files, the check-back
    assert sent[2]["text"]["body"].startswith(ANSWER)
    assert_media_sent(fake, sent[3:5])
    assert sent[5]["type"] == "interactive"  # the check-back's buttons, inside the window
    assert sent[5]["interactive"]["body"]["text"].startswith("Apakah masalah pada laporan")
    answer_message = next(m for m in kanal.history(number) if m.text.startswith(ANSWER))
    assert answer_message.delivery_state == "sent"
    assert answer_message.platform_message_id is not None
    with kanal.db.read() as session:
        row = session.exec(
            select(OutboxItem).where(OutboxItem.message_id == answer_message.id)
        ).one()
    assert (row.state, row.attempts, row.payload["parts_sent"]) == ("sent", 1, 2)
    # In the history the files are the sent answer's attachments.
    attached = answer_attachments(kanal, number)
    assert [(a.message_id, a.file_name, a.kind, a.fetch_state) for a in attached] == [
        (answer_message.id, "jalan-baru.png", "image", "stored"),
        (answer_message.id, "surat-dinas.pdf", "document", "stored"),
    ]


@pytest.mark.parametrize("document", [{"triage": {"opd_answers": "direct"}}], indirect=True)
async def test_a_direct_answer_sends_its_files_at_once(
    kanal: Kanal, fake: FakeWhatsAppCloud, liaison: Browser
) -> None:
    number = await forwarded_report(kanal, fake)
    response = await answer_with_files(liaison, number, FILES)
    assert response.status == 303
    sent = await sent_until(fake, 5)
    assert sent[2]["text"]["body"] == ANSWER
    assert_media_sent(fake, sent[3:5])
    assert kanal.ticket(number).status == "answered"


async def test_a_file_that_fails_is_retried_without_the_text(
    kanal: Kanal, fake: FakeWhatsAppCloud, liaison: Browser, clock: FixedClock
) -> None:
    """The text went out, the photo's message failed: the retry sends the photo, never the
    text a second time."""
    number = await forwarded_report(kanal, fake)
    assert (await answer_with_files(liaison, number, FILES[:1])).status == 303
    fake.media_failures.append(SERVER_ERROR)
    kanal.runtime.actions.apply(number, Resolve(), actor="op1")
    sent = await sent_until(fake, 4)  # the answer's text and the check-back; the photo failed
    assert [m["type"] for m in sent] == ["text"] * 3 + ["interactive"]
    answer_message = next(m for m in kanal.history(number) if m.text.startswith(ANSWER))
    assert answer_message.delivery_state == "queued"
    assert answer_message.error_code == "131000"

    clock.advance(timedelta(seconds=31))  # the outbox's first back-off
    kanal.runtime.outbox.wake()
    sent = await sent_until(fake, 5)
    assert [m["type"] for m in sent] == ["text"] * 3 + ["interactive", "image"]
    assert [u.file_name for u in fake.uploads] == ["jalan-baru.png", "jalan-baru.png"]
    with kanal.db.read() as session:
        row = session.exec(
            select(OutboxItem).where(OutboxItem.message_id == answer_message.id)
        ).one()
    assert (row.state, row.attempts, row.payload["parts_sent"]) == ("sent", 2, 1)
