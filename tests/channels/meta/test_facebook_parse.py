"""Reading Graph objects and answers (pure): messages, attachments, errors, usage headers."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from multidict import CIMultiDict

from channels.base import (
    AttachmentKind,
    DeliveryState,
    DeliveryStatus,
    InboundMessage,
    Notice,
    UnsupportedEvent,
)
from channels.meta.facebook import DIALECT as FACEBOOK
from channels.meta.graph import (
    GraphError,
    GraphThrottled,
    GraphTokenInvalid,
    Usage,
    error_from,
    graph_time,
)
from channels.meta.instagram import DIALECT as INSTAGRAM
from channels.meta.parse import Post, read_comment, read_dm, read_mention, shorten, to_inbound
from channels.meta.webhook_parse import CHANGE_PARSERS
from conftest import corpus_dir

FIXTURES = Path(__file__).resolve().parent / "fixtures"
PAGE = "2121008874780932"


def corpus(platform: str, name: str) -> dict:
    return json.loads((corpus_dir(platform) / name).read_text(encoding="utf-8"))


def test_a_recorded_messenger_message_with_a_photo() -> None:
    recorded = corpus("facebook", "messages_message_info.json")
    item = read_dm(recorded, "t_587956915396498", FACEBOOK)
    assert item is not None
    inbound = to_inbound(item, account=PAGE, own_ids=frozenset({PAGE}), dialect=FACEBOOK)
    assert isinstance(inbound, InboundMessage)
    assert (inbound.external_id, inbound.sender_id, inbound.display_name) == (
        recorded["id"],
        "2711636948859886",
        "Kun Liu",
    )
    assert inbound.sent_at == datetime(2021, 7, 23, 9, 50, 48, tzinfo=UTC)
    [photo] = inbound.attachments
    assert photo.kind is AttachmentKind.IMAGE
    assert photo.media_ref == recorded["attachments"]["data"][0]["image_data"]["url"]
    assert (photo.mime_type, photo.size, photo.file_name) == (
        "image/jpeg",
        54542,
        "image-651143212510248",
    )
    assert inbound.raw == {"conversation_id": "t_587956915396498", "message": recorded}


def test_the_pages_own_message_is_a_sent_receipt() -> None:
    recorded = corpus("facebook", "messages_message_info.json")
    ours = {**recorded, "from": {"id": PAGE, "name": "MyLife"}}
    item = read_dm(ours, "t_1", FACEBOOK)
    assert item is not None
    status = to_inbound(item, account=PAGE, own_ids=frozenset({PAGE}), dialect=FACEBOOK)
    assert status == DeliveryStatus(
        channel="facebook",
        account=PAGE,
        platform_message_id=recorded["id"],
        state=DeliveryState.SENT,
        at=datetime(2021, 7, 23, 9, 50, 48, tzinfo=UTC),
        raw={"conversation_id": "t_1", "message": ours},
    )


@pytest.mark.parametrize(
    ("part", "kind", "ref"),
    [
        ({"image_data": {"url": "u1", "render_as_sticker": True}}, AttachmentKind.STICKER, "u1"),
        ({"video_data": {"url": "u2"}, "mime_type": "video/mp4"}, AttachmentKind.VIDEO, "u2"),
        ({"file_url": "u3", "mime_type": "audio/mpeg"}, AttachmentKind.AUDIO, "u3"),
        ({"file_url": "u4", "mime_type": "application/pdf"}, AttachmentKind.DOCUMENT, "u4"),
    ],
)
def test_dm_attachment_kinds(part: dict, kind: AttachmentKind, ref: str) -> None:
    obj = {"id": "m_1", "created_time": "2026-11-23T01:00:00+0000", "from": {"id": "9"}}
    item = read_dm({**obj, "attachments": {"data": [{"id": "a", **part}]}}, "t", FACEBOOK)
    assert item is not None
    [attachment] = item.attachments
    assert (attachment.kind, attachment.media_ref) == (kind, ref)


def test_instagram_story_replies_and_unreadable_dms() -> None:
    base = {"created_time": "2026-11-23T01:00:00+0000", "from": {"id": "9", "username": "ani"}}
    story = {"id": "m_s", "message": "Ini di mana?", **base}
    story["story"] = {"reply_to": {"link": "https://cdn.example/story.jpg", "id": "s1"}}
    item = read_dm(story, "t", INSTAGRAM)
    assert item is not None
    assert item.text == "Ini di mana?\n[Menanggapi story: https://cdn.example/story.jpg]"
    assert (item.contact, item.sender_name, item.problem) == ("@ani", "ani", None)

    empty = read_dm({"id": "m_u", "is_unsupported": True, **base}, "t", INSTAGRAM)
    assert empty is not None
    inbound = to_inbound(empty, account="17", own_ids=frozenset(), dialect=INSTAGRAM)
    assert isinstance(inbound, InboundMessage)
    assert (inbound.text, inbound.notice, inbound.notice_args) == ("", Notice.UNSUPPORTED, {})
    assert inbound.parse_error == "message without text or readable attachments"


def test_a_comment_without_a_sender_is_kept_as_unsupported() -> None:
    recorded = corpus("facebook", "comments_comment_info.json")  # fields without `from`
    post = Post("10158371815748553", "Post", None)
    item = read_comment(recorded, post, FACEBOOK)
    assert item is not None
    event = to_inbound(item, account=PAGE, own_ids=frozenset({PAGE}), dialect=FACEBOOK)
    assert event == UnsupportedEvent(
        channel="facebook",
        account=PAGE,
        external_id=f"comment:{recorded['id']}",
        kind="comment:no_sender",
        reason="comment without a sender id (the token may lack a permission)",
        raw={"comment": recorded, "post": {"id": post.id, "caption": "Post", "link": None}},
    )


def test_a_comment_photo_and_a_recorded_mention() -> None:
    comment = {
        "id": "1_2",
        "message": "",
        "created_time": "2026-11-23T01:00:00+0000",
        "from": {"id": "5", "name": "Ani"},
        "parent": {"id": "1_1"},
        "attachment": {"type": "photo", "media": {"image": {"src": "https://x/p.jpg"}}},
    }
    item = read_comment(comment, Post("1", "", None), FACEBOOK)
    assert item is not None
    inbound = to_inbound(item, account=PAGE, own_ids=frozenset(), dialect=FACEBOOK)
    assert isinstance(inbound, InboundMessage)
    assert (inbound.reply_to, inbound.subject) == (
        "comment:1_1",
        "Komentar di postingan: (postingan tanpa keterangan)",
    )
    assert [(a.kind, a.media_ref) for a in inbound.attachments] == [
        (AttachmentKind.IMAGE, "https://x/p.jpg")
    ]
    assert inbound.public  # Kanal answers a comment only when an operator does

    media = corpus("instagram", "users_mentioned_media.json")["mentioned_media"]
    mention = read_mention({**media, "username": "ikroskun"}, INSTAGRAM)
    assert mention is not None
    assert (mention.external_id, mention.sender_id, mention.text) == (
        "mention:17889114512354744",
        "ikroskun",
        "@ikroskun hey",
    )
    assert mention.at == datetime(2021, 8, 19, 9, 0, 22, tzinfo=UTC)


def test_captions_are_shortened_for_the_subject() -> None:
    assert shorten("  Jalan\n rusak  ") == "Jalan rusak"
    long = "kata " * 30
    assert shorten(long) == ("kata " * 16).strip() + "…"
    assert len(shorten(long)) <= 80


# --- errors and usage ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error", "kind", "retryable"),
    [
        (400, {"code": 190, "error_subcode": 463}, GraphTokenInvalid, False),
        (400, {"code": 190, "error_subcode": 460}, GraphTokenInvalid, False),
        (400, {"code": 190}, GraphTokenInvalid, False),
        (400, {"code": 4}, GraphThrottled, True),
        (400, {"code": 17}, GraphThrottled, True),
        (400, {"code": 32}, GraphThrottled, True),
        (400, {"code": 613}, GraphThrottled, True),
        (400, {"code": 80006}, GraphThrottled, True),
        (500, {"code": 2}, GraphError, True),
        (400, {"code": 1, "is_transient": True}, GraphError, True),
        (400, {"code": 100}, GraphError, False),
        (403, {"code": 10, "error_subcode": 2018278}, GraphError, False),
        (502, None, GraphError, True),
    ],
)
def test_graph_errors_are_typed_by_their_code(
    status: int, error: dict | None, kind: type, retryable: bool
) -> None:
    body = {"error": {"message": "m", "type": "OAuthException", **error}} if error else None
    found = error_from(status, body, "", Usage())
    assert type(found) is kind
    assert found.retryable is retryable
    assert found.status == status


def test_a_recorded_error_body_keeps_its_code_and_message() -> None:
    body = corpus("facebook", "error.json")
    found = error_from(400, body, json.dumps(body), Usage())
    assert (found.code, found.retryable) == ("100", False)
    assert str(found) == (
        "Graph HTTP 400 code 100: (#100) Pages Public Content Access requires either app secret "
        "proof or an app token"
    )


def test_throttling_waits_for_the_time_graph_names() -> None:
    headers = CIMultiDict(
        {
            "X-App-Usage": '{"call_count":28,"total_time":25,"total_cputime":25}',
            "X-Business-Use-Case-Usage": json.dumps(
                {
                    "112": [
                        {
                            "type": "pages",
                            "call_count": 100,
                            "total_cputime": 40,
                            "total_time": 30,
                            "estimated_time_to_regain_access": 12,
                        }
                    ]
                }
            ),
        }
    )
    usage = Usage.from_headers(headers)
    assert usage == Usage(percent=100, regain_minutes=12)
    found = error_from(400, {"error": {"code": 80001}}, "", usage)
    assert found.retry_after == 12 * 60
    without = error_from(400, {"error": {"code": 4}}, "", Usage(), retry_after=None)
    assert without.retry_after == 300  # Graph named no time: five minutes
    assert Usage.from_headers(CIMultiDict({"X-App-Usage": "not json"})) == Usage()


def test_graph_times() -> None:
    assert graph_time("2021-07-23T09:50:48+0000") == datetime(2021, 7, 23, 9, 50, 48, tzinfo=UTC)
    assert graph_time("2021-07-23T09:50:48+07:00") is not None
    assert graph_time("2021-07-23T09:50:48") is None  # no zone: not trusted
    assert graph_time(None) is None


def test_every_fixture_is_used() -> None:
    """Graph answers are seeded into the fake; webhook bodies are posted: none lies unused."""
    here = Path(__file__).resolve().parent
    seed = (here / "fake_meta_graph_seed.py").read_text(encoding="utf-8")
    hooks = (here / "test_facebook_webhook.py").read_text(encoding="utf-8")
    for platform in ("facebook", "instagram"):
        for path in sorted((FIXTURES / platform).glob("*.json")):
            if path.name.startswith("webhook__"):
                assert f'"{path.stem}"' in hooks, f"{path} is not used"
            else:
                assert f'"{path.name}"' in seed, f"{path} is not used"


def test_every_webhook_field_read_has_a_fixture() -> None:
    fields = set()
    for path in FIXTURES.glob("*/webhook__*.json"):
        body = json.loads(path.read_text(encoding="utf-8"))
        fields |= {c["field"] for e in body["entry"] for c in e.get("changes", [])}
    assert set(CHANGE_PARSERS) <= fields
