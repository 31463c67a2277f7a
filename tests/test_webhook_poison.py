"""One bad delivery among many good ones: the good ones are answered 200 and stored, the bad
one is answered 200 and kept as unreadable with its reason; no content ever gets a 5xx.
Through the real webhook apps and intake, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select
from webhook_harness import WA_ACCOUNT, Webhooks, serve_webhooks

from channels.base import Attachment as Attachment_
from channels.base import AttachmentKind, Cursor, InboundMessage
from conftest import FixedClock
from store.db import Database
from store.models import Attachment, Message, RawEvent, Reporter
from support.paths import fixtures_of
from triage.intake import Intake

GOOD = 100


def fixture(channel: str, name: str) -> dict[str, Any]:
    return json.loads((fixtures_of(channel) / f"{name}.json").read_text(encoding="utf-8"))


def whatsapp(n: int, **message: Any) -> dict[str, Any]:
    """A text delivery from sender n; `message` fields replace the text message's own."""
    body = fixture("whatsapp", "text__indonesian_unicode")
    value = body["entry"][0]["changes"][0]["value"]
    value["contacts"][0]["wa_id"] = f"62812{n:07d}"
    value["messages"][0] |= {"from": f"62812{n:07d}", "id": f"wamid.good{n}"} | message
    return body


def dumps(payload: Any) -> bytes:
    # As Meta sends it: ASCII with \\u escapes, so a lone surrogate arrives as "\\ud800".
    return json.dumps(payload, ensure_ascii=True).encode()


def rows(db: Database, model: Any, *where: Any) -> list[Any]:
    with db.read() as session:
        return list(session.exec(select(model).where(*where)))


def message(db: Database, external_id: str) -> Message:
    (found,) = rows(db, Message, Message.external_id == external_id)
    return found


@pytest.fixture
async def hooks(intake: Intake, tmp_path: Path, clock: FixedClock) -> AsyncIterator[Webhooks]:
    async with serve_webhooks(intake, tmp_path, clock) as served:
        yield served


def poisons() -> dict[str, tuple[str, bytes]]:
    image = whatsapp(900, type="image", image={"id": "m1", "mime_type": "image/jpeg"})
    image["entry"][0]["changes"][0]["value"]["messages"][0].pop("text")
    image["entry"][0]["changes"][0]["value"]["messages"][0]["image"]["caption"] = 5
    document = fixture("telegram", "message__document_pdf")
    document["message"]["document"]["file_size"] = 2**70
    return {
        "caption_number": ("whatsapp", dumps(image)),
        "lone_surrogate": ("whatsapp", dumps(whatsapp(901, text={"body": "lampu\ud800mati"}))),
        "nul_sender": ("whatsapp", dumps(whatsapp(902, **{"from": "6281\x00"}))),
        "long_id": ("whatsapp", dumps(whatsapp(903, id="wamid." + "x" * 600))),
        "huge_file_size": ("telegram", dumps(document)),
    }


async def test_one_poison_delivery_among_many_good_ones(hooks: Webhooks, db: Database) -> None:
    bad = poisons()
    deliveries = [("whatsapp", dumps(whatsapp(n))) for n in range(GOOD)]
    deliveries[GOOD // 2 : GOOD // 2] = list(bad.values())
    statuses = await asyncio.gather(*(hooks.post(channel, body) for channel, body in deliveries))
    assert statuses == [200] * len(deliveries)
    stored = {m.external_id for m in rows(db, Message)}
    assert {f"wamid.good{n}" for n in range(GOOD)} <= stored

    # Each poison is kept: readable parts as a message, the rest with the reason.
    caption = message(db, "wamid.good900")
    assert caption.parse_error == "image: 'caption' is a number, not text"
    assert message(db, "wamid.good901").text == "lampu\ufffdmati"
    unreadable = sorted(r.error for r in rows(db, RawEvent, RawEvent.kind == "unreadable"))
    assert unreadable == [
        "message could not be read: 'from' holds NUL or a lone surrogate",
        "message could not be read: 'id' is 606 characters long, more than 512",
    ]
    (update,) = rows(db, RawEvent, RawEvent.channel == "telegram")
    assert "'file_size' is 1180591620717411303424, outside 0..2147483647" in (update.error or "")
    assert update.payload["message"]["document"]["file_size"] == 2**70  # kept as sent


async def test_nul_and_long_profile_name_are_stored_not_refused(
    hooks: Webhooks, db: Database
) -> None:
    nul = whatsapp(1, text={"body": "Jalan\x00 rusak"})
    long_name = whatsapp(2)
    long_name["entry"][0]["changes"][0]["value"]["contacts"][0]["profile"]["name"] = "N" * 400
    assert await hooks.post("whatsapp", dumps(nul)) == 200
    assert await hooks.post("whatsapp", dumps(long_name)) == 200
    assert message(db, "wamid.good1").text == "Jalan rusak"
    (named,) = rows(db, Reporter, Reporter.sender_id == "628120000002")
    assert named.display_name == "N" * 319 + "…"
    # The raw payload is kept as it was received.
    raw = rows(db, RawEvent, RawEvent.external_id == "wamid.good1")[0].payload
    sent = raw["entry"][0]["changes"][0]["value"]["messages"][0]
    assert sent["text"]["body"] == "Jalan\x00 rusak"


@pytest.mark.parametrize(
    ("channel", "header"),
    [
        ("whatsapp", b"X-Hub-Signature-256: sha256=\xc3\xa9" + b"0" * 62),
        ("facebook", b"X-Hub-Signature-256: sha256=\xe2\x82\xac"),
        ("instagram", b"X-Hub-Signature-256: sha256=\xff\xfe"),
        ("telegram", b"X-Telegram-Bot-Api-Secret-Token: kanal\xff"),
    ],
)
async def test_a_non_ascii_signature_or_secret_is_refused_with_401(
    hooks: Webhooks, db: Database, channel: str, header: bytes
) -> None:
    sent = whatsapp(1) if channel != "telegram" else fixture("telegram", "message__text")
    body = dumps(sent)
    assert await hooks.post_raw(channel, [header], body) == 401
    assert rows(db, RawEvent) == []


@pytest.mark.parametrize("key", ["messaging", "changes"])
@pytest.mark.parametrize("channel", ["facebook", "instagram"])
async def test_a_signed_meta_body_with_a_number_for_a_list_is_kept(
    hooks: Webhooks, db: Database, channel: str, key: str
) -> None:
    body = {
        "object": "page" if channel == "facebook" else "instagram",
        "entry": [{"id": "1", "time": 1, key: 5}],
    }
    good = fixture("facebook", "webhook__message_with_photo")
    if channel == "facebook":
        body["entry"].append(good["entry"][0])
    assert await hooks.post(channel, dumps(body)) == 200
    kept = rows(db, RawEvent, RawEvent.kind == "webhook:entry")
    assert [(r.error, r.payload) for r in kept] == [(f"{key!r} is not a list", body["entry"][0])]
    if channel == "facebook":
        assert message(db, "m_hook01_jembatan_kayen").text.startswith("Jembatan di Kayen")


async def test_a_failing_submission_is_kept_apart_from_its_neighbours(
    intake: Intake, db: Database
) -> None:
    """Whatever makes one submission fail in the database (here a channel's naive time), the
    others in its group commit are stored, and it is kept as an unreadable raw event."""
    at = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)

    def report(n: int) -> InboundMessage:
        return InboundMessage(
            channel="whatsapp",
            account=WA_ACCOUNT,
            external_id=f"wamid.n{n}",
            sender_id=f"62813{n:07d}",
            sent_at=at,
            text=f"laporan {n}",
            raw={"n": n},
        )

    bad = replace(report(999), sent_at=at.replace(tzinfo=None))
    submissions = [[report(n)] for n in range(40)]
    submissions.insert(20, [report(998), bad])
    cursor = Cursor("whatsapp", WA_ACCOUNT, "test", "after-999")  # as a poller would pass it
    results = await asyncio.gather(
        *(intake.submit(items, cursor if len(items) == 2 else None) for items in submissions)
    )
    assert [r.stored for r in results] == [1] * 20 + [2] + [1] * 20
    stored = {m.external_id for m in rows(db, Message)}
    assert stored == {f"wamid.n{n}" for n in [*range(40), 998]}
    (kept,) = rows(db, RawEvent, RawEvent.kind == "unstorable")
    assert "naive datetime given to the store" in (kept.error or "")
    assert "wamid.n999" in (kept.error or "")
    assert json.loads(kept.payload["escaped_payload"]) == {"n": 999}
    assert await intake.read_cursor("whatsapp", WA_ACCOUNT, "test") == "after-999"
    assert rows(db, Attachment) == []


async def test_what_any_channel_hands_over_is_made_to_fit(intake: Intake, db: Database) -> None:
    """The intake writer, whatever the channel's own checks: text made storable, an id longer
    than its column or a size out of range kept as unreadable, each with its reason."""
    at = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    base = InboundMessage(
        channel="email",
        account="aduan@example.go.id",
        external_id="<a@example>",
        sender_id="lain@example.com",
        sent_at=at,
        text="ok",
        raw={"id": 1},
    )
    items = [
        replace(
            base,
            external_id="<nul@x>",
            sender_id="warga\x00@example.com",
            text="Jalan\x00 rusak \ud800",
            display_name="Bu \udfff Sri",
        ),
        replace(base, external_id="<" + "x" * 600 + ">", raw={"id": 2}),
        replace(
            base,
            external_id="<size@x>",
            raw={"id": 3},
            attachments=(Attachment_(kind=AttachmentKind.DOCUMENT, media_ref="1", size=2**70),),
        ),
        replace(base, external_id="<good@x>", raw={"id": 4}),
    ]
    result = await intake.submit(items)
    assert (result.stored, result.duplicates) == (4, 0)
    stored = {m.external_id: m for m in rows(db, Message)}
    assert sorted(stored) == ["<good@x>", "<nul@x>"]
    assert (stored["<nul@x>"].sender_id, stored["<nul@x>"].text) == (
        "warga@example.com",
        "Jalan rusak \ufffd",
    )
    (reporter,) = rows(db, Reporter, Reporter.sender_id == "warga@example.com")
    assert reporter.display_name == "Bu \ufffd Sri"
    kept = sorted((r.error or "")[:60] for r in rows(db, RawEvent, RawEvent.kind == "unstorable"))
    assert kept == [
        "attachment size 1180591620717411303424 is not a size in byte",
        "external_id is 602 characters long, more than 512 (id '<xxxx",
    ]
