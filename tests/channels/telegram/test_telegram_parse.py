"""Telegram update parsing: every fixture, item by item, field by field."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from channels.base import (
    Attachment,
    AttachmentKind,
    AutoReply,
    InboundMessage,
    Location,
    MessageUpdate,
    Notice,
    UnsupportedEvent,
    UpdateKind,
)
from channels.telegram.parse import (
    IGNORED_UPDATES,
    MESSAGE_PARSERS,
    TEXTS,
    parse_updates,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures"
ACCOUNT = "123456"
RECEIVED = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
T = 1795395600
SITI = "5550001"


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def siti(message_id: int, **fields: Any) -> InboundMessage:
    values: dict[str, Any] = {
        "channel": "telegram",
        "account": ACCOUNT,
        "external_id": f"{SITI}:{message_id}",
        "sender_id": SITI,
        "sent_at": datetime.fromtimestamp(T + message_id, UTC),
        "display_name": "Siti Aminah",
        "contact": "@siti_pati",
    }
    return InboundMessage(**(values | fields))


def unsupported(update_id: int, kind: str, reason: str) -> UnsupportedEvent:
    return UnsupportedEvent("telegram", ACCOUNT, f"update:{update_id}", kind, reason)


EXPECTED: dict[str, list[Any]] = {
    "message__text": [
        siti(11, text="Jalan di Desa Kayen berlubang besar, mohon segera diperbaiki.")
    ],
    "message__photo_sizes": [
        siti(
            12,
            text="Lubangnya di depan SD Negeri 2",
            attachments=(
                Attachment(
                    AttachmentKind.IMAGE,
                    mime_type="image/jpeg",
                    media_ref="AgACAgUAAxkBAAIBLarge",
                    size=84412,
                    caption="Lubangnya di depan SD Negeri 2",
                ),
            ),
        )
    ],
    "message__document_pdf": [
        siti(
            13,
            text="Surat dari RT 03",
            attachments=(
                Attachment(
                    AttachmentKind.DOCUMENT,
                    mime_type="application/pdf",
                    media_ref="BQACAgUAAxkBAAIBDoc",
                    size=48211,
                    file_name="surat_pengantar_rt.pdf",
                    caption="Surat dari RT 03",
                ),
            ),
        )
    ],
    "message__location": [siti(14, location=Location(-6.756345, 111.038712))],
    "message__venue": [
        siti(
            15,
            location=Location(-6.7489, 111.0399, "Pasar Kayen", "Jl. Raya Kayen-Sukolilo, Pati"),
        )
    ],
    "message__contact_own": [
        siti(16, text="Kontak: Siti Aminah, 6281234567890", contact="+6281234567890")
    ],
    "message__contact_other": [siti(17, text="Kontak: Pak RT, +6289876543210")],
    "message__voice": [
        siti(
            18,
            attachments=(
                Attachment(
                    AttachmentKind.VOICE,
                    mime_type="audio/ogg",
                    media_ref="AwACAgUAAxkBAAIBVoice",
                    size=21874,
                ),
            ),
        )
    ],
    "message__reply_to_bot": [siti(19, text="Alamatnya RT 03 RW 01", reply_to=f"{SITI}:7")],
    "message__poll": [
        siti(
            20,
            notice=Notice.UNSUPPORTED_KIND,
            notice_args={"kind": "poll"},
            parse_error="message kind 'poll' is not handled",
        )
    ],
    "message__group_chat": [
        unsupported(
            730000111,
            "chat:supergroup",
            "supergroup chats are not read; reports come in private chats",
        )
    ],
    "command__start": [
        replace(
            unsupported(730000112, "command:start", "/start: greeted, no report"),
            auto_reply=AutoReply("5550001", TEXTS["start"]["id"]),
        )
    ],
    "command__start_english": [
        replace(
            unsupported(730000113, "command:start", "/start: greeted, no report"),
            auto_reply=AutoReply("5550002", TEXTS["start"]["en"]),
        )
    ],
    "edited_message__text": [
        MessageUpdate(
            "telegram",
            ACCOUNT,
            "update:730000114",
            f"{SITI}:11",
            UpdateKind.EDIT,
            SITI,
            datetime.fromtimestamp(T + 600, UTC),
            "Jalan di Desa Kayen berlubang besar (RT 03), mohon segera diperbaiki.",
        )
    ],
    "callback_query__button": [
        unsupported(730000115, "callback_query", "update kind 'callback_query' is not handled")
    ],
    "my_chat_member__blocked": [],
}


def _without_raw(item: Any) -> Any:
    return type(item)(**{k: getattr(item, k) for k in item.__slots__ if k != "raw"})


@pytest.mark.parametrize("name", sorted(p.stem for p in FIXTURES.glob("*.json")))
def test_fixture(name: str) -> None:
    update = fixture(name)
    parsed = parse_updates([update], ACCOUNT, RECEIVED)
    assert [_without_raw(i) for i in parsed.items] == EXPECTED[name]
    assert all(item.raw == update for item in parsed.items)  # stored as Telegram sent it


def test_every_fixture_has_an_expectation_and_every_kind_a_fixture() -> None:
    names = {p.stem for p in FIXTURES.glob("*.json")}
    assert names == set(EXPECTED)
    kinds = {k for name in names for k in fixture(name).get("message", {})}
    covered = {"text", "photo", "document", "voice", "location", "venue", "contact"}
    assert covered <= kinds
    # Kinds parsed by the shared file parser without a fixture of their own:
    assert set(MESSAGE_PARSERS) - covered == {
        "video",
        "video_note",
        "animation",
        "audio",
        "sticker",
    }
    assert {next(k for k in fixture(n) if k != "update_id") for n in names} >= {
        "my_chat_member",
        "edited_message",
        "callback_query",
    } and "my_chat_member" in IGNORED_UPDATES


def test_greetings_are_in_indonesian_and_english() -> None:
    assert TEXTS["start"]["id"].startswith("Selamat datang")
    assert "lokasi" in TEXTS["start"]["id"].lower()
    assert TEXTS["start"]["en"].startswith("Welcome")


def test_odd_updates_are_kept_not_raised() -> None:
    parsed = parse_updates(
        ["not a dict", {"update_id": 9, "message": {"chat": {"type": "private"}}}],
        ACCOUNT,
        RECEIVED,
    )
    first, second = parsed.items
    assert isinstance(first, UnsupportedEvent) and first.kind == "update"
    assert first.external_id.startswith("update:sha256-")
    assert isinstance(second, UnsupportedEvent) and second.external_id == "update:9"
    assert second.reason == "message unreadable: 'id' is missing"
