"""WhatsApp webhook parsing: every recorded and hand-made body, item by item, field by field."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from channels.base import (
    Attachment,
    AttachmentKind,
    DeliveryState,
    DeliveryStatus,
    InboundMessage,
    Location,
    MessageUpdate,
    Notice,
    UnsupportedEvent,
    UpdateKind,
)
from channels.whatsapp.parse import (
    IGNORED_MESSAGE_TYPES,
    IGNORED_STATUSES,
    MESSAGE_PARSERS,
    STATUS_STATES,
    parse_body,
)
from conftest import CORPUS, corpus_dir
from fake_whatsapp_webhooks import OUR_ACCOUNT, webhook_bytes, webhook_cases

FIXTURES = Path(__file__).resolve().parent / "fixtures"
RECEIVED = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)

PNID = "1122334455667"  # the corpus' phone_number_id
T = 1795395600  # our fixtures' base timestamp


def at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def msg(external_id: str, timestamp: int, **fields: Any) -> InboundMessage:
    """An inbound message from the corpus' one reporter, with `fields` overriding."""
    values: dict[str, Any] = {
        "channel": "whatsapp",
        "account": PNID,
        "external_id": external_id,
        "sender_id": "972987654321",
        "sent_at": at(timestamp),
        "display_name": "Test Name",
        "contact": "+972987654321",
    }
    return InboundMessage(**(values | fields))


def ours(external_id: str, timestamp: int, sender: str, name: str, **fields: Any) -> InboundMessage:
    """An inbound message of our own fixtures (Indonesian numbers, our phone_number_id)."""
    values = {"account": OUR_ACCOUNT, "sender_id": sender, "display_name": name}
    return msg(external_id, timestamp, contact=f"+{sender}", **(values | fields))


def status(wamid: str, state: DeliveryState, timestamp: int, **fields: Any) -> DeliveryStatus:
    values = {"channel": "whatsapp", "account": PNID, "platform_message_id": wamid}
    return DeliveryStatus(state=state, at=at(timestamp), **(values | fields))


def update(
    external_id: str, target: str, kind: UpdateKind, timestamp: int, text: str = "", **fields: Any
) -> MessageUpdate:
    values = {"channel": "whatsapp", "account": PNID, "sender_id": "972987654321"}
    return MessageUpdate(
        external_id=external_id,
        target_external_id=target,
        kind=kind,
        sent_at=at(timestamp),
        text=text,
        **(values | fields),
    )


def unsupported(external_id: str, kind: str, reason: str, **fields: Any) -> UnsupportedEvent:
    values = {"channel": "whatsapp", "account": PNID}
    return UnsupportedEvent(external_id=external_id, kind=kind, reason=reason, **(values | fields))


def image(media_id: str, sha256: str | None, **fields: Any) -> Attachment:
    return Attachment(AttachmentKind.IMAGE, "image/jpeg", media_id, sha256=sha256, **fields)


SITI = "6281234567890"
BUDI = "6285712345678"
UNREADABLE: dict[str, Any] = {"notice": Notice.UNREADABLE}


def unsupported_kind(kind: str) -> dict[str, Any]:
    """A message the channel cannot show: no text, a notice code naming WhatsApp's type."""
    return {"notice": Notice.UNSUPPORTED_KIND, "notice_args": {"kind": kind}}


UNSUPPORTED_131051 = "131051 Message type unknown: Message type is currently not supported."
OPUS = "audio/ogg; codecs=opus"
WAMID_SITI = "wamid.HBgNNjI4MTIzNDU2Nzg5MBUCABIYFjNFQj"
WAMID_BUDI = "wamid.HBgNNjI4NTcxMjM0NTY3OBUCABIYFjNFQj"
PHOTO_SHA = "8e6713f138f4ec56259e9755df6914062b9c7c39e0d2ec53e1ebc29fc9b389db"
PDF_SHA = "88aff3cfbbc3c0154acefd3ce5a0dd4ebbe158e1683b1d68e86f73ba2700c969"
EXPERIMENT = (
    "User's number is part of an experiment: Failed to send message because this user's phone "
    "number is part of an experiment"
)
RE_ENGAGEMENT = (
    "Re-engagement message: Message failed to send because more than 24 hours have passed since "
    "the customer last replied to this number."
)

EXPECTED: dict[str, list[Any]] = {
    # --- corpus: buttons and lists
    # The picked button's or row's id is the message's `choice`; its title the text.
    "corpus/callback_button/button": [
        msg(
            "wamid.xyzxyz",
            1698266730,
            text="title",
            reply_to="wamid.xyzxyz",
            choice="callback_data",
        )
    ],
    "corpus/callback_button/quick_reply": [
        msg(
            "wamid.xsidjw",
            1698269027,
            text="title",
            reply_to="wamid.xyzxyz==",
            choice="callback_data",
        )
    ],
    "corpus/callback_button/quick_reply_without_context": [
        msg("wamid.xsidjx", 1698269027, text="title", choice="callback_data")
    ],
    "corpus/callback_selection/callback": [
        msg(
            "wamid.zyzxyz",
            1698266905,
            text="title",
            reply_to="wamid.xyzxyz",
            choice="callback_data",
        )
    ],
    "corpus/callback_selection/description": [
        msg(
            "wamid.zyzxyz",
            1698266905,
            text="title (description)",
            reply_to="wamid.xyzxyz",
            choice="callback_data",
        )
    ],
    # --- corpus: edits and deletions
    "corpus/deleted_message/revoke": [
        update(
            "<WHATSAPP_MESSAGE_ID>",
            "<ORIGINAL_WHATSAPP_MESSAGE_ID>",
            UpdateKind.DELETE,
            1697043223,
            account="<BUSINESS_PHONE_NUMBER_ID>",
            sender_id="<WHATSAPP_USER_PHONE_NUMBER>",
        )
    ],
    "corpus/edited_message/image": [
        update(
            "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA=",
            "wamid.HBgLMTQxMjU1NTA4MjkVAgASGBQzQUNCNjk5RDUwNUZGMUZEM0VBRAA=",
            UpdateKind.EDIT,
            1749854575,
            "Updated image caption",
            account="106540352242922",
            sender_id="16505551234",
        )
    ],
    # --- corpus: every message type
    "corpus/message/text": [msg("wamid.xyzxyz", 1697043223, text="Body Text")],
    # "4654+8g=" is no SHA-256 at all (5 bytes): nothing to check the download against.
    "corpus/message/image": [
        msg("wamid.xyzxyz", 1697043379, attachments=(image("65463453", None),))
    ],
    "corpus/message/media_with_url": [
        msg("wamid.xyzxyz", 1697043379, attachments=(image("65463453", None),))
    ],
    "corpus/message/video": [
        msg(
            "wamid.xyzxyz",
            1697044362,
            text="caption",
            forwarded=True,
            attachments=(
                Attachment(AttachmentKind.VIDEO, "video/mp4", "765756756", caption="caption"),
            ),
        )
    ],
    "corpus/message/document": [
        msg(
            "wamid.xyzxyz",
            1697043666,
            text="caption",
            forwarded=True,
            attachments=(
                Attachment(
                    AttachmentKind.DOCUMENT,
                    "application/pdf",
                    "1234567890987654321",
                    file_name="filename.pdf",
                    caption="caption",
                ),
            ),
        )
    ],
    "corpus/message/audio": [
        msg(
            "wamid.xyzxyz",
            1697043509,
            forwarded=True,
            attachments=(Attachment(AttachmentKind.AUDIO, OPUS, "1234567890987654321"),),
        )
    ],
    "corpus/message/voice": [
        msg(
            "wamid.xyzxyz",
            1697043473,
            attachments=(
                Attachment(
                    AttachmentKind.VOICE,
                    OPUS,
                    "1234567890987654321",
                    sha256="9b4e2915fd8445d6a8a53c859063c0d3e6d7de2f986367588151703a00cb4832",
                ),
            ),
        )
    ],
    "corpus/message/static_sticker": [
        msg(
            "wamid.xyzxyz",
            1697043760,
            attachments=(
                Attachment(
                    AttachmentKind.STICKER,
                    "image/webp",
                    "1234567890987654321",
                    sha256="3a64f89e18d48423083cd9a3ede78e65e0988d35e42f1a0ebfce4e3021704ae7",
                ),
            ),
        )
    ],
    "corpus/message/animated_sticker": [
        msg(
            "wamid.xyzxyz",
            1697043785,
            attachments=(Attachment(AttachmentKind.STICKER, "image/webp", "1234567890987654321"),),
        )
    ],
    "corpus/message/reaction": [
        update("wamid.xyzxyz", "wamid.yzxyzx=", UpdateKind.REACTION, 1697044456, "😮")
    ],
    "corpus/message/unreaction_empty": [
        update("wamid.xyzxyz", "wamid.yzxyzx=", UpdateKind.REACTION, 1697044456, "")
    ],
    "corpus/message/unreaction_no_emoji": [
        update("wamid.xyzxyz", "wamid.yzxyzx=", UpdateKind.REACTION, 1697044456, "")
    ],
    "corpus/message/current_location": [
        msg(
            "wamid.xyzxyz",
            1697044557,
            forwarded=True,
            location=Location(latitude=12.25089, longitude=43.90539),
        )
    ],
    "corpus/message/chosen_location": [
        msg(
            "wamid.xyzxyz",
            1697044557,
            forwarded=True,
            location=Location(
                latitude=37.4611978,
                longitude=-122.2164385,
                name="Facebook HQ",
                address="1 Hacker Way, Menlo Park, CA 94025",
            ),
        )
    ],
    "corpus/message/contacts": [
        msg(
            "wamid.xyzxyz",
            1697044621,
            text="Kontak: Chandler Bing, +1 555-555-5555\n"
            "Kontak: Monica, +1 666-666-6666\n"
            "Kontak: Rachel Green, +1 777-777-7777",
        )
    ],
    "corpus/message/order": [
        msg(
            "wamid.xyzxyz",
            1697044668,
            **unsupported_kind("order"),
            parse_error="message type 'order' is not handled",
        )
    ],
    "corpus/message/unsupported": [
        msg(
            "wamid.xyzxyz",
            1697044706,
            notice=Notice.UNSUPPORTED,
            parse_error=UNSUPPORTED_131051,
        )
    ],
    "corpus/message/unsupported_with_type": [
        msg(
            "wamid.xyzxyz",
            1697044706,
            **unsupported_kind("pool"),
            parse_error=UNSUPPORTED_131051,
        )
    ],
    "corpus/message/reply": [
        msg("wamid.xyzxyz", 1697044746, text="replied text", reply_to="wamid.xyzxyz==")
    ],
    "corpus/message/forwarded": [
        msg("wamid.xyzxyz", 1697044815, text="forwarded text", forwarded=True)
    ],
    "corpus/message/forwarded_many_times": [
        msg("wamid.xyzxyz", 1697044968, text="text forwarded many times", forwarded=True)
    ],
    "corpus/message/interactive_message_with_err": [
        msg(
            "wamid.wegrchytvwcggt=",
            1700505494,
            **UNREADABLE,
            reply_to="wamid.gvwegfretge==",
            parse_error="interactive: missing 'interactive' object; "
            "131000 Something went wrong: Unsupported webhook payload",
        )
    ],
    "corpus/message/referral": [
        msg(
            "wamid.ID",
            1697045000,
            text="BODY",
            subject="Dari iklan/postingan: AD_TITLE (AD_OR_POST_FB_URL)",
        )
    ],
    # --- corpus: statuses of what we sent
    "corpus/message_status/sent": [status("wamid.xyzxyz", DeliveryState.SENT, 1698266945)],
    "corpus/message_status/delivered": [
        status("wamid.xyzxyz", DeliveryState.DELIVERED, 1698266945)
    ],
    "corpus/message_status/read": [status("wamid.xyzxyz", DeliveryState.READ, 1689380458)],
    "corpus/message_status/played": [],  # ignored on purpose: Kanal sends no voice notes
    "corpus/message_status/failed": [
        status(
            "wamid.xyzxyz",
            DeliveryState.FAILED,
            1689380458,
            error_code="130472",
            error_message=EXPERIMENT,
        )
    ],
    "corpus/message_status/with_tracker": [status("wamid.xyzxyz", DeliveryState.SENT, 1698266945)],
    "corpus/message_status/group": [
        status(
            "<WHATSAPP_MESSAGE_ID>",
            DeliveryState.READ,
            1698266945,
            account="<BUSINESS_PHONE_NUMBER_ID>",
        )
    ],
    # --- corpus: system notices are kept, never a report
    "corpus/system/phone_number_change": [
        unsupported(
            "wamid.xyzxyz==",
            "system:user_changed_number",
            "system notice, not a report: User A changed from 972987654321 to 972912345678",
        )
    ],
    "corpus/system/identity_change": [
        unsupported(
            "wamid.xyzxyz",
            "system:customer_identity_changed",
            "system notice, not a report: User identity changed",
        )
    ],
    # --- our own fixtures
    "fixtures/text__indonesian_unicode": [
        ours(
            "wamid.HBgNNjI4OTg3NjU0MzIxMBUCABIYFjNFQjBDNzE2QTJDRjM2QjFFMjQ2QUUA",
            T,
            "6289876543210",
            "Dewi Ayu Lestari 🌸",
            text="Lampu jalan di Jl. Kolonel Sunandar mati sejak 3 hari — mohon segera "
            "diperbaiki 🙏",
        )
    ],
    # A reporter known only by a WhatsApp username: a business-scoped user id, no phone.
    "fixtures/text__username_only_sender": [
        msg(
            "wamid.HBgTSUQuMTM0OTEyMDg2NTUzMDI3NBUCABIYFjNFQjBVU0VSTkFNRVVTRVJOQU1FVQA=",
            1795396500,
            account=OUR_ACCOUNT,
            sender_id="ID.1349120865530274",
            display_name="Rina Wulandari",
            contact="rina.pati",
            text="Selokan di RT 03 Winong mampet, air meluap ke jalan",
        )
    ],
    "fixtures/image__caption_sha256": [
        ours(
            WAMID_SITI + "A5QkM0RjVBNkE3RDgyQzFBMjMA",
            T + 60,
            SITI,
            "Siti Aisyah",
            text="Jalan berlubang depan SDN 2 Pati",
            attachments=(
                image("1481726922764521", PHOTO_SHA, caption="Jalan berlubang depan SDN 2 Pati"),
            ),
        )
    ],
    "fixtures/document__pdf_with_filename": [
        ours(
            WAMID_SITI + "BGMjE0RDk5OEU1MDAzQjQ4QTUA",
            T + 120,
            SITI,
            "Siti Aisyah",
            text="Surat keterangan RT",
            attachments=(
                Attachment(
                    AttachmentKind.DOCUMENT,
                    "application/pdf",
                    "902375561189410",
                    file_name="Surat RT 05.pdf",
                    sha256=PDF_SHA,
                    caption="Surat keterangan RT",
                ),
            ),
        )
    ],
    "fixtures/batch__two_entries_messages_and_status": [
        ours(
            WAMID_SITI + "AxMTExMTExMTExMTExMTExMTEA",
            T + 200,
            SITI,
            "Siti Aisyah",
            text="Sampah menumpuk di pasar Puri",
        ),
        ours(
            WAMID_BUDI + "AyMjIyMjIyMjIyMjIyMjIyMjIA",
            T + 201,
            BUDI,
            "Budi Santoso",
            location=Location(
                latitude=-6.7559,
                longitude=111.038,
                name="Pasar Puri Baru",
                address="Jl. Kolonel Sunandar, Puri, Kec. Pati, Kabupaten Pati, Jawa Tengah",
            ),
        ),
        status(
            "wamid.HBgNNjI4MTIzNDU2Nzg5MBUCABEYEjQ2QTNGRjc5RjY0QzJBQjg2MQA=",
            DeliveryState.DELIVERED,
            T + 202,
            account=OUR_ACCOUNT,
        ),
    ],
    "fixtures/edit__text": [
        update(
            WAMID_SITI + "BFRElURURFRElURURFRElURUQA",
            WAMID_SITI + "AxMTExMTExMTExMTExMTExMTEA",
            UpdateKind.EDIT,
            T + 300,
            "Sampah menumpuk di pasar Puri Baru, sudah seminggu",
            account=OUR_ACCOUNT,
            sender_id=SITI,
        )
    ],
    "fixtures/status__failed_re_engagement": [
        status(
            "wamid.HBgNNjI4MTIzNDU2Nzg5MBUCABEYEjVCNEM5RDhFN0YyQTFCMzA0NgA=",
            DeliveryState.FAILED,
            T + 400,
            account=OUR_ACCOUNT,
            error_code="131047",
            error_message=RE_ENGAGEMENT,
        )
    ],
    "fixtures/status__played_voice": [],
    "fixtures/request_welcome__first_open": [],
    "fixtures/field__phone_number_quality_update": [],
    "fixtures/interactive__nfm_reply": [
        ours(
            WAMID_BUDI + "BORk1ORk1ORk1ORk1ORk1ORk0A",
            T + 600,
            BUDI,
            "Budi Santoso",
            **unsupported_kind("interactive/nfm_reply"),
            reply_to="wamid.HBgNNjI4NTcxMjM0NTY3OBUCABEYEkZMT1dGTE9XRkxPV0ZMT1cA",
            parse_error="interactive type 'nfm_reply' is not handled",
        )
    ],
    "fixtures/unknown_type__invented": [
        ours(
            WAMID_BUDI + "BIT0xPR1JBTUhPTE9HUkFNSE8A",
            T + 700,
            BUDI,
            "Budi Santoso",
            **unsupported_kind("hologram"),
            parse_error="message type 'hologram' is not handled",
        )
    ],
    "fixtures/status__unknown_deleted": [
        unsupported(
            f"status:wamid.HBgNNjI4MTIzNDU2Nzg5MBUCABEYEkRFTEVURURFTEVURURFTAA=:deleted:{T + 900}",
            "status:deleted",
            "status 'deleted' is not handled",
            account=OUR_ACCOUNT,
        )
    ],
}

# Items named by the hash of what they carry: checked by kind, reason and the hash's source.
HASHED: dict[str, tuple[str, str, str]] = {
    "fixtures/field__message_template_status_update": (
        "field:message_template_status_update",
        "change field 'message_template_status_update' is not handled",
        "change",
    ),
    "fixtures/errors__out_of_band": (
        "errors",
        UNSUPPORTED_131051,
        "change",
    ),
    "fixtures/invalid__truncated": ("invalid_json", "body is not JSON", "body"),
    "fixtures/not_whatsapp__page_object": (
        "not_whatsapp",
        "not a WhatsApp webhook body (object is 'page')",
        "body",
    ),
}


def all_cases() -> dict[str, bytes]:
    return webhook_cases(corpus_dir("whatsapp"), FIXTURES)


def case_ids() -> list[str]:
    corpus = CORPUS / "whatsapp"
    if not corpus.is_dir():
        return sorted(EXPECTED) + sorted(HASHED)  # corpus_dir() skips them with the reason
    return sorted(webhook_cases(corpus, FIXTURES))


def parse(body: bytes) -> list[Any]:
    return parse_body(body, account=OUR_ACCOUNT, received_at=RECEIVED)


def without_raw(item: Any) -> Any:
    return dataclasses.replace(item, raw={})


@pytest.mark.parametrize("case", case_ids())
def test_every_case_parses_to_the_expected_items(case: str) -> None:
    body = all_cases()[case]
    items = parse(body)
    if case in HASHED:
        kind, reason, source = HASHED[case]
        (item,) = items
        assert isinstance(item, UnsupportedEvent)
        assert (item.channel, item.account, item.kind) == ("whatsapp", OUR_ACCOUNT, kind)
        assert item.reason.startswith(reason)
        if source == "body":
            assert item.external_id == "body:" + hashlib.sha256(body).hexdigest()
            assert item.raw == {"body": body.decode()}
        else:
            assert item.external_id.startswith(f"{kind}:102290129340398:")
            assert item.raw == json.loads(body)["entry"][0]["changes"][0]
        return
    assert [without_raw(item) for item in items] == EXPECTED[case]


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_each_item_keeps_a_body_that_parses_back_to_it(case: str) -> None:
    """What is stored as raw is itself a one-item webhook body: nothing of the item is lost."""
    for item in parse(all_cases()[case]):
        assert item.raw["object"] == "whatsapp_business_account"
        again = parse(webhook_bytes(item.raw))
        assert again == [item]


def test_non_ascii_is_read_from_escaped_bytes() -> None:
    body = all_cases()["fixtures/text__indonesian_unicode"]
    assert b"\\ud83d\\ude4f" in body and "🙏".encode() not in body  # Meta's escaped form
    (item,) = parse(body)
    assert item.text.endswith("diperbaiki 🙏")


def test_no_case_is_unchecked_and_no_expectation_is_stale() -> None:
    cases = set(all_cases())
    expected = set(EXPECTED) | set(HASHED)
    assert cases - expected == set(), "cases without expected items"
    assert expected - cases == set(), "expected items for cases that do not exist"


def test_every_supported_kind_has_a_case() -> None:
    """Every entry of the dispatch tables, and every ignored kind, is exercised by a body."""
    seen_types: set[str] = set()
    seen_statuses: set[str] = set()
    seen_interactive: set[str] = set()
    for body in all_cases().values():
        try:
            data = json.loads(body)
        except ValueError:
            continue
        for entry in data.get("entry", []):
            for change in entry.get("changes", []):
                value = change.get("value", {})
                for message in value.get("messages", []):
                    seen_types.add(message.get("type"))
                    seen_interactive.add((message.get("interactive") or {}).get("type"))
                for item in value.get("statuses", []):
                    seen_statuses.add(item.get("status"))
    assert set(MESSAGE_PARSERS) | IGNORED_MESSAGE_TYPES <= seen_types
    assert set(STATUS_STATES) | IGNORED_STATUSES <= seen_statuses
    assert {"button_reply", "list_reply"} <= seen_interactive


def test_media_sha256_is_read_in_both_announced_forms() -> None:
    from channels.whatsapp.messages import media_sha256_hex

    assert media_sha256_hex("jmcT8Tj07FYlnpdV32kUBiucfDng0uxT4evCn8mzids=") == PHOTO_SHA
    assert media_sha256_hex(PHOTO_SHA.upper()) == PHOTO_SHA
    assert media_sha256_hex("4654+8g=") is None
    assert media_sha256_hex(None) is None


def test_a_missing_timestamp_falls_back_to_the_time_received() -> None:
    body = json.loads(all_cases()["corpus/message/text"])
    del body["entry"][0]["changes"][0]["value"]["messages"][0]["timestamp"]
    (item,) = parse(webhook_bytes(body))
    assert item.sent_at == RECEIVED


def test_a_malformed_change_is_kept_whole_and_the_others_are_read() -> None:
    good = json.loads(all_cases()["corpus/message/text"])
    bad = json.loads(all_cases()["corpus/message_status/sent"])
    bad["entry"][0]["changes"][0]["value"]["statuses"] = 5
    body = {"object": "whatsapp_business_account", "entry": good["entry"] + bad["entry"]}
    text, kept = parse(webhook_bytes(body))
    assert without_raw(text) == EXPECTED["corpus/message/text"][0]
    assert isinstance(kept, UnsupportedEvent)
    assert (kept.kind, kept.account) == ("unreadable", OUR_ACCOUNT)
    assert kept.reason.startswith("change could not be read")
    assert kept.raw == bad["entry"][0]["changes"][0]


ODD_VALUES = [None, 5, "x", [], {}, [1], True]


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path] if path else []
    if isinstance(node, dict | list):
        children = node.items() if isinstance(node, dict) else enumerate(node)
        for key, child in children:
            found += _paths(child, (*path, key))
    return found


def test_no_mangled_field_of_any_case_makes_the_parser_raise() -> None:
    """Whatever a single field holds, the delivery is read: every item kept, none raised."""
    for case, body in all_cases().items():
        try:
            data = json.loads(body)
        except ValueError:
            continue
        for path in _paths(data):
            for odd in ODD_VALUES:
                mangled = json.loads(body)
                node = mangled
                for key in path[:-1]:
                    node = node[key]
                node[path[-1]] = odd
                items = parse(webhook_bytes(mangled))
                assert all(item.channel == "whatsapp" for item in items), (case, path, odd)


def test_a_message_without_a_sender_is_kept_but_opens_no_ticket() -> None:
    body = json.loads(all_cases()["corpus/message/text"])
    message = body["entry"][0]["changes"][0]["value"]["messages"][0]
    del message["from"]
    (item,) = parse(webhook_bytes(body))
    assert isinstance(item, UnsupportedEvent)
    assert (item.kind, item.reason, item.raw) == ("message", "message without a sender", message)
