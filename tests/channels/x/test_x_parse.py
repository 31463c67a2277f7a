"""X API v2 pages parsing: every fixture and every recorded page, item by item, field by field."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from channels.base import Attachment, AttachmentKind, InboundMessage, UnsupportedEvent
from channels.x.parse import IGNORED_DM_EVENT_TYPES, parse_dm_page, parse_mentions_page
from conftest import corpus_dir
from fake_x_api import load_corpus

FIXTURES = Path(__file__).resolve().parent / "fixtures"
ACCOUNT = "783214"
ALICE = "1500000000000000001"
RECEIVED = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def page(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def alice(external_id: str, sent_at: datetime, text: str, **fields: Any) -> InboundMessage:
    values: dict[str, Any] = {
        "channel": "x",
        "account": ACCOUNT,
        "external_id": external_id,
        "sender_id": ALICE,
        "sent_at": sent_at,
        "text": text,
        "display_name": "Alice Rahayu",
        "contact": "@alice_pati",
        "public": not external_id.startswith("dm:"),  # a tweet is public, a DM is not
    }
    return InboundMessage(**(values | fields))


EXPECTED: dict[str, list[Any]] = {
    "mentions__root_with_photo_and_video": [
        alice(
            "1860000000000004194",
            datetime(2026, 11, 22, 8, 15, 30, tzinfo=UTC),
            "@pemkab Jembatan retak, ini foto dan videonya https://t.co/abc",
            attachments=(
                Attachment(
                    AttachmentKind.IMAGE, media_ref="https://pbs.twimg.com/media/GdXyZ1.jpg"
                ),
                Attachment(AttachmentKind.VIDEO, media_ref="7_1860000000000004195"),
            ),
        )
    ],
    "mentions__reply_quoting": [
        alice(
            "1860000000000008388",
            datetime(2026, 11, 23, 1, 0, tzinfo=UTC),
            "@pemkab @dinaspupr sudah seminggu belum ada perbaikan",
            reply_to="1860000000000006000",
            references=("1860000000000004194", "1850000000000000001"),
        )
    ],
    "mentions__own_and_authorless": [
        UnsupportedEvent(
            "x", ACCOUNT, "tweet:1860000000000010001", "tweet", "tweet without an author"
        )
    ],
    "mentions__empty": [],
    "dm_events__conversation": [
        alice(
            "dm:1860000000000020001",
            datetime(2026, 11, 23, 1, 5, tzinfo=UTC),
            "Lokasinya dekat SD Negeri 2 Kayen",
            references=(f"dm:{ACCOUNT}-{ALICE}",),
        ),
        UnsupportedEvent(
            "x",
            ACCOUNT,
            "dm:MessageReactionCreate:1860000000000019998",
            "dm:MessageReactionCreate",
            "DM event type 'MessageReactionCreate' is not handled",
        ),
    ],
}


def parse(name: str, body: dict[str, Any]) -> list[Any]:
    parser = parse_dm_page if name.startswith("dm_events") else parse_mentions_page
    return parser(body, ACCOUNT, RECEIVED)


def _without_raw(item: Any) -> Any:
    return type(item)(**{k: getattr(item, k) for k in item.__slots__ if k != "raw"})


@pytest.mark.parametrize("name", sorted(p.stem for p in FIXTURES.glob("*.json")))
def test_fixture(name: str) -> None:
    items = parse(name, page(name))
    assert [_without_raw(i) for i in items] == EXPECTED[name]


def test_every_fixture_has_an_expectation() -> None:
    assert {p.stem for p in FIXTURES.glob("*.json")} == set(EXPECTED)
    assert "ParticipantsJoin" in IGNORED_DM_EVENT_TYPES


def test_raw_keeps_the_item_with_only_its_own_includes() -> None:
    (item,) = parse("mentions__reply_quoting", page("mentions__reply_quoting"))
    body = page("mentions__reply_quoting")
    assert item.raw == {"tweet": body["data"][0], "includes": body["includes"]}
    (photo,) = parse("x", page("mentions__root_with_photo_and_video"))
    assert [m["media_key"] for m in photo.raw["includes"]["media"]] == [
        "3_1860000000000004194",
        "7_1860000000000004195",
    ]


def test_recorded_pages_without_expansions_are_kept_as_unsupported() -> None:
    """The recording asked for no fields: without an author no tweet can join a reporter."""
    recorded = load_corpus(corpus_dir("twitter"))
    items = parse_mentions_page({"data": recorded.mentions}, ACCOUNT, RECEIVED)
    assert len(items) == len(recorded.mentions) == 12
    assert {type(i) for i in items} == {UnsupportedEvent}
    assert [i.external_id for i in items] == [f"tweet:{t['id']}" for t in recorded.mentions]
    dms = parse_dm_page({"data": recorded.dm_events}, ACCOUNT, RECEIVED)
    assert [i.reason for i in dms] == ["DM without a sender"] * 2
