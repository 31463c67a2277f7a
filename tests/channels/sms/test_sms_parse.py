"""SMS Gateway deliveries read into Kanal's items, field by field, one test per fixture; phone
numbers in the forms Indonesian senders arrive in; bodies that are not what the docs say."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from channels.base import DeliveryState, DeliveryStatus, InboundMessage, Notice, UnsupportedEvent
from channels.sms.parse import EVENT_PARSERS, IGNORED_EVENTS, parse_body
from channels.sms.phone import recipient_number, sender_of

FIXTURES = Path(__file__).parent / "fixtures"
ACCOUNT = "yVULogr4Y1ksRfnos1Dsw"
RECEIVED_AT = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
WIB = timezone(timedelta(hours=7))


def fixture(name: str) -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


def event_of(name: str) -> str:
    """The event a fixture is named by: "sms_received__docs_example" -> "sms:received"."""
    return name.split("__", 1)[0].replace("_", ":", 1)


def parse(body: bytes) -> list[Any]:
    return parse_body(body, account=ACCOUNT, received_at=RECEIVED_AT)


def received(
    name: str, external_id: str, sender: str, contact: str, text: str, at: datetime
) -> InboundMessage:
    raw = json.loads(fixture(name))
    return InboundMessage(
        channel="sms",
        account=ACCOUNT,
        external_id=external_id,
        sender_id=sender,
        sent_at=at,
        text=text,
        contact=contact,
        raw=raw,
    )


def status(name: str, state: DeliveryState, at: datetime, **extra: Any) -> DeliveryStatus:
    return DeliveryStatus(
        channel="sms",
        account=ACCOUNT,
        platform_message_id="0f3b9d7c2a8e4b6f9a1c5d7e3b2f8a64",
        state=state,
        at=at,
        raw=json.loads(fixture(name)),
        **extra,
    )


EXPECTED: dict[str, list[Any]] = {
    "sms_received__docs_example": [
        received(
            "sms_received__docs_example",
            "Ey6ECgOkVVFjz3CL48B8C",
            "6505551212",  # no "+": a foreign national number is kept as sent
            "6505551212",
            "Android is always a sweet treat!",
            datetime(2024, 6, 22, 15, 46, 11, tzinfo=WIB),
        )
    ],
    "sms_received__sender_recipient": [
        received(
            "sms_received__sender_recipient",
            "Q7mZp2LwXc9TnR4vB1sKd",
            "6281234567890",
            "+6281234567890",
            "Lapor pak, jalan di Desa Sukoharjo Kec. Margorejo berlubang besar depan SD Negeri 2, "
            "sudah 3 motor jatuh minggu ini. Mohon segera diperbaiki.",
            datetime(2026, 11, 23, 8, 41, 7, tzinfo=WIB),
        )
    ],
    "sms_received__national_number": [
        received(
            "sms_received__national_number",
            "hT3kW9xLq2ZvN8bR5mYcA",
            "6281234567891",
            "+6281234567891",
            "Lampu PJU di Jl. Diponegoro mati sejak Senin.",
            datetime(2026, 11, 23, 9, 2, 55, tzinfo=WIB),
        )
    ],
    "sms_sent__docs": [
        status("sms_sent__docs", DeliveryState.SENT, datetime(2026, 11, 23, 9, 10, 2, tzinfo=WIB))
    ],
    "sms_delivered__docs": [
        status(
            "sms_delivered__docs",
            DeliveryState.DELIVERED,
            datetime(2026, 11, 23, 9, 10, 9, tzinfo=WIB),
        )
    ],
    "sms_failed__docs": [
        status(
            "sms_failed__docs",
            DeliveryState.FAILED,
            datetime(2026, 11, 23, 9, 10, 5, tzinfo=WIB),
            error_code="failed",
            error_message="RESULT_ERROR_GENERIC_FAILURE",
        )
    ],
    "system_ping__docs": [],  # ignored on purpose
    "sms_data-received__docs": [
        UnsupportedEvent(
            channel="sms",
            account=ACCOUNT,
            external_id="Zc6Vb0Nm4Kj8Hg2Fd5Sa1",
            kind="event:sms:data-received",
            reason="event 'sms:data-received' is not handled",
            raw=json.loads(fixture("sms_data-received__docs")),
        )
    ],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_fixture_reads_as_expected(name: str) -> None:
    assert parse(fixture(name)) == EXPECTED[name]


def test_every_fixture_is_used_and_every_event_has_one() -> None:
    on_disk = {path.stem for path in FIXTURES.glob("*.json")}
    assert on_disk == set(EXPECTED)
    covered = {event_of(name) for name in on_disk}
    # app:started has no published example to record
    assert set(EVENT_PARSERS) | (IGNORED_EVENTS - {"app:started"}) <= covered


def test_the_same_text_twice_is_two_reports() -> None:
    """messageId is derived from the text: two SMS saying the same are two deliveries."""
    first = json.loads(fixture("sms_received__sender_recipient"))
    second = first | {"id": "another-delivery-id-01"}
    [one], [two] = parse(json.dumps(first).encode()), parse(json.dumps(second).encode())
    assert one.raw["payload"]["messageId"] == two.raw["payload"]["messageId"]
    assert (one.external_id, two.external_id) == (first["id"], "another-delivery-id-01")


# --- what the docs do not promise ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "kind", "reason"),
    [
        (b'{"event": "sms:received", "id": "x', "invalid_json", "body is not JSON"),
        (b"[1, 2]", "not_sms_gateway", "the body is list"),
        (b'{"event": "sms:received"}', "not_sms_gateway", "'id' is missing"),
        (b'{"event": 7, "id": "a"}', "not_sms_gateway", "'event' is a number, not text"),
    ],
)
def test_a_body_that_is_no_event_is_kept_by_its_hash(body: bytes, kind: str, reason: str) -> None:
    [item] = parse(body)
    assert isinstance(item, UnsupportedEvent)
    assert item.external_id == "body:" + hashlib.sha256(body).hexdigest()
    assert (item.kind, item.raw) == (kind, {"body": body.decode()})
    assert reason in item.reason


def delivery(payload: Any, event: str = "sms:received") -> bytes:
    return json.dumps({"event": event, "id": "d-1", "payload": payload}).encode()


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ({"message": "Jalan rusak"}, "names no sender"),
        ({"message": "Jalan rusak", "phoneNumber": 628123}, "'phoneNumber' is a number"),
        ("teks", "'payload' is text, not an object"),
        (None, "names no sender"),
    ],
)
def test_a_received_sms_without_a_sender_is_kept_unread(payload: Any, reason: str) -> None:
    [item] = parse(delivery(payload))
    assert isinstance(item, UnsupportedEvent)
    assert (item.external_id, item.kind) == ("d-1", "sms:received:unreadable")
    assert reason in item.reason


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ({"phoneNumber": "+6281234567890", "receivedAt": "2026-11-23T08:00:00+07:00"},
         "no message text"),
        ({"phoneNumber": "+6281234567890", "message": ["a"],
          "receivedAt": "2026-11-23T08:00:00+07:00"}, "message is not text"),
    ],
)  # fmt: skip
def test_an_sms_without_readable_text_carries_a_notice_and_the_reason(
    payload: dict[str, Any], reason: str
) -> None:
    [item] = parse(delivery(payload))
    assert isinstance(item, InboundMessage)
    assert (item.sender_id, item.text, item.notice) == ("6281234567890", "", Notice.UNREADABLE)
    assert item.parse_error is not None and reason in item.parse_error


def test_a_time_without_an_offset_falls_back_to_when_it_reached_us() -> None:
    [item] = parse(delivery({"phoneNumber": "081234567890", "message": "Banjir",
                             "receivedAt": "2026-11-23 08:00:00"}))  # fmt: skip
    assert (item.text, item.sent_at) == ("Banjir", RECEIVED_AT)
    assert "receivedAt is not a time with an offset" in item.parse_error


def test_a_status_without_a_message_id_is_kept_unread() -> None:
    [item] = parse(delivery({"phoneNumber": "+6281234567890"}, event="sms:delivered"))
    assert isinstance(item, UnsupportedEvent)
    assert (item.kind, item.external_id) == ("sms:delivered:unreadable", "d-1")
    assert "'messageId' is missing" in item.reason


# --- phone numbers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "sender_id", "contact"),
    [
        ("+6281234567890", "6281234567890", "+6281234567890"),
        ("6281234567890", "6281234567890", "+6281234567890"),
        ("081234567890", "6281234567890", "+6281234567890"),
        ("0812-3456-7890", "6281234567890", "+6281234567890"),
        ("+62 812 3456 7890", "6281234567890", "+6281234567890"),
        ("006281234567890", "6281234567890", "+6281234567890"),
        ("(0295) 381234", "62295381234", "+62295381234"),  # a landline in Pati
        ("+31612345678", "31612345678", "+31612345678"),
        ("1708", "1708", "1708"),  # a short code
        ("TELKOMSEL", "TELKOMSEL", "TELKOMSEL"),  # an operator's alphanumeric sender
        ("08abc", "08abc", "08abc"),
    ],
)
def test_senders_are_kept_the_way_whatsapp_gives_numbers(
    sent: str, sender_id: str, contact: str
) -> None:
    sender = sender_of(sent)
    assert (sender.sender_id, sender.contact) == (sender_id, contact)


def test_a_reply_goes_to_the_e164_number_or_nowhere() -> None:
    assert recipient_number("6281234567890", "+6281234567890") == "+6281234567890"
    assert recipient_number("6281234567890", None) == "+6281234567890"
    assert recipient_number("TELKOMSEL", "TELKOMSEL") is None
    assert recipient_number("1708", None) is None
