"""SMS Gateway for Android webhook bodies turned into Kanal's inbound items (pure: no I/O, no
clock). One event per delivery: {"deviceId", "event", "id", "webhookId", "payload"}.

The delivery `id` is made once per event and kept through the phone's retries, so it is the
external id; the payload's `messageId` is derived from the text and repeats, so it is not.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from channels import payload
from channels.base import (
    DeliveryState,
    DeliveryStatus,
    Inbound,
    InboundMessage,
    Notice,
    UnsupportedEvent,
)
from channels.sms.phone import sender_of
from channels.webhook import unreadable_body

CHANNEL = "sms"

# Known on purpose and dropped: nothing in them is a report or news about one.
IGNORED_EVENTS = frozenset({"system:ping", "app:started"})

# Our own messages' fate, with the payload field that says when.
STATUS_EVENTS = {
    "sms:sent": (DeliveryState.SENT, "sentAt"),
    "sms:delivered": (DeliveryState.DELIVERED, "deliveredAt"),
    "sms:failed": (DeliveryState.FAILED, "failedAt"),
}


def parse_body(body: bytes, *, account: str, received_at: datetime) -> list[Inbound]:
    """Read the raw bytes of one (already authenticated) delivery; never raises on bad input."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        return [unreadable_body(CHANNEL, account, body, "invalid_json", f"body is not JSON: {exc}")]
    if not isinstance(data, dict):
        reason = f"not an SMS Gateway event (the body is {type(data).__name__})"
        return [unreadable_body(CHANNEL, account, body, "not_sms_gateway", reason)]
    try:
        event = payload.text(data, "event")
        delivery_id = payload.ident(data, "id")
    except payload.Unreadable as exc:
        reason = f"not an SMS Gateway event: {payload.reason(exc)}"
        return [unreadable_body(CHANNEL, account, body, "not_sms_gateway", reason)]
    return parse_event(data, event, delivery_id, account=account, received_at=received_at)


def parse_event(
    data: dict[str, Any], event: str, delivery_id: str, *, account: str, received_at: datetime
) -> list[Inbound]:
    if event in IGNORED_EVENTS:
        return []
    parser = EVENT_PARSERS.get(event)
    if parser is None:
        reason = f"event {event!r} is not handled"
        return [_unsupported(data, account, delivery_id, f"event:{event}", reason)]
    try:
        return [parser(data, event, delivery_id, account, received_at)]
    except (payload.Unreadable, KeyError, TypeError, ValueError, AttributeError) as exc:
        # Kept whole with its payload: a malformed event must never fail the delivery.
        reason = f"{event} could not be read: {payload.reason(exc)}"
        return [_unsupported(data, account, delivery_id, f"{event}:unreadable", reason)]


def _received(
    data: dict[str, Any], event: str, delivery_id: str, account: str, received_at: datetime
) -> Inbound:
    body = payload.obj(data, "payload")
    # `sender` since 2026; `phoneNumber` before it, and still sent alongside.
    raw_sender = payload.opt_text(body, "sender") or payload.opt_text(body, "phoneNumber")
    if not raw_sender:
        raise payload.Unreadable("the payload names no sender (sender, phoneNumber)")
    sender = sender_of(raw_sender)
    if len(sender.sender_id) > payload.SENDER_LENGTH:
        raise payload.Unreadable(f"the sender is longer than {payload.SENDER_LENGTH} characters")
    problems: list[str] = []
    text = _message_text(body, problems)
    notice = Notice.UNREADABLE if text is None else None
    sent_at = _time(body, "receivedAt", received_at, problems)
    return InboundMessage(
        channel=CHANNEL,
        account=account,
        external_id=delivery_id,
        sender_id=sender.sender_id,
        sent_at=sent_at,
        text=text or "",
        notice=notice,
        contact=sender.contact,
        parse_error="; ".join(problems) or None,
        raw=data,
    )


def _status(
    data: dict[str, Any], event: str, delivery_id: str, account: str, received_at: datetime
) -> Inbound:
    body = payload.obj(data, "payload")
    state, time_field = STATUS_EVENTS[event]
    failed = state is DeliveryState.FAILED
    return DeliveryStatus(
        channel=CHANNEL,
        account=account,
        platform_message_id=payload.ident(body, "messageId"),
        state=state,
        at=_time(body, time_field, received_at, []),
        error_code="failed" if failed else None,
        error_message=payload.opt_text(body, "reason") if failed else None,
        raw=data,
    )


EventParser = Callable[[dict[str, Any], str, str, str, datetime], Inbound]
EVENT_PARSERS: dict[str, EventParser] = {
    "sms:received": _received,
    **{event: _status for event in STATUS_EVENTS},
}


def _message_text(body: dict[str, Any], problems: list[str]) -> str | None:
    """The SMS text; None when the payload has none to read (the message gets a notice)."""
    value = body.get("message")
    if isinstance(value, str):
        return value
    problems.append("the payload has no message text" if value is None else "message is not text")
    return None


def _time(body: dict[str, Any], key: str, fallback: datetime, problems: list[str]) -> datetime:
    """An ISO 8601 time with its offset, as the phone writes it; else when it reached us."""
    value = body.get(key)
    if isinstance(value, str):
        try:
            found = datetime.fromisoformat(value)
        except ValueError:
            found = None
        if found is not None and found.tzinfo is not None:
            return found
    problems.append(f"{key} is not a time with an offset: {value!r}"[:200])
    return fallback


def _unsupported(
    data: dict[str, Any], account: str, delivery_id: str, kind: str, reason: str
) -> UnsupportedEvent:
    return UnsupportedEvent(
        channel=CHANNEL,
        account=account,
        external_id=delivery_id,
        kind=kind,
        reason=reason,
        raw=data,
    )
