"""WhatsApp Cloud API webhook bodies turned into Kanal's inbound items (pure: no I/O, no clock)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from channels import payload
from channels.base import DeliveryState, DeliveryStatus, Inbound, UnsupportedEvent
from channels.webhook import unreadable_body
from channels.whatsapp.messages import (
    CHANNEL,
    IGNORED_MESSAGE_TYPES,
    MESSAGE_PARSERS,
    WEBHOOK_OBJECT,
    ChangeContext,
    errors_text,
    parse_message,
    unix_time,
    unsupported_event,
)

__all__ = ["IGNORED_MESSAGE_TYPES", "MESSAGE_PARSERS", "parse_body", "parse_webhook"]

# Known on purpose and dropped: nothing in them is a report or news about one.
IGNORED_STATUSES = frozenset({"played"})  # voice notes only; Kanal sends text
IGNORED_FIELDS = frozenset(
    {
        "message_template_quality_update",  # periodic quality scores of our own templates
        "phone_number_quality_update",  # periodic quality rating of our own number
        "template_category_update",
    }
)

STATUS_STATES = {
    "sent": DeliveryState.SENT,
    "delivered": DeliveryState.DELIVERED,
    "read": DeliveryState.READ,
    "failed": DeliveryState.FAILED,
}


def parse_body(body: bytes, *, account: str, received_at: datetime) -> list[Inbound]:
    """Read the raw bytes of one (already authenticated) POST; never raises on bad input."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        return [unreadable_body(CHANNEL, account, body, "invalid_json", f"body is not JSON: {exc}")]
    if not isinstance(data, dict) or data.get("object") != WEBHOOK_OBJECT:
        found = data.get("object") if isinstance(data, dict) else type(data).__name__
        reason = f"not a WhatsApp webhook body (object is {found!r})"
        return [unreadable_body(CHANNEL, account, body, "not_whatsapp", reason)]
    if not isinstance(data.get("entry"), list):
        reason = "WhatsApp body without an entry list"
        return [unreadable_body(CHANNEL, account, body, "not_whatsapp", reason)]
    return parse_webhook(data, account=account, received_at=received_at)


def parse_webhook(data: dict[str, Any], *, account: str, received_at: datetime) -> list[Inbound]:
    """Every message, update, status and unknown change in a WhatsApp webhook body."""
    items: list[Inbound] = []
    for entry in data.get("entry") or []:
        entry_id = str(entry.get("id", "")) if isinstance(entry, dict) else ""
        changes = entry.get("changes") if isinstance(entry, dict) else None
        if not isinstance(changes, list):
            reason = "entry without changes"
            items.append(unsupported_event(account, "entry", reason, entry, entry_id))
            continue
        for change in changes:
            items.extend(_parse_change(change, entry_id, account, received_at))
    return items


def _parse_change(change: Any, entry_id: str, account: str, received_at: datetime) -> list[Inbound]:
    field = change.get("field") if isinstance(change, dict) else None
    field = field if isinstance(field, str) else None
    value = change.get("value") if isinstance(change, dict) else None
    if field in IGNORED_FIELDS:
        return []
    if field != "messages" or not isinstance(value, dict):
        reason = f"change field {field!r} is not handled"
        if field == "messages":
            reason = "change has no value object"
        return [unsupported_event(account, f"field:{field}", reason, change, entry_id)]
    try:
        return _parse_value(value, change, entry_id, account, received_at)
    except (TypeError, ValueError, AttributeError, KeyError) as exc:
        # Kept whole with its payload: a malformed change must never fail the delivery.
        reason = f"change could not be read: {exc!r}"
        return [unsupported_event(account, "unreadable", reason, change, entry_id)]


def _parse_value(
    value: dict[str, Any], change: Any, entry_id: str, account: str, received_at: datetime
) -> list[Inbound]:
    metadata = value.get("metadata") if isinstance(value.get("metadata"), dict) else {}
    account = payload.opt_ident(metadata, "phone_number_id", payload.SENDER_LENGTH) or account
    ctx = ChangeContext(account, entry_id, value, received_at)
    messages, statuses = value.get("messages") or [], value.get("statuses") or []
    if not isinstance(messages, list) or not isinstance(statuses, list):
        raise ValueError("messages and statuses must be lists")
    items: list[Inbound] = []
    for message in messages:
        item = parse_message(message, ctx)
        if item is not None:
            items.append(item)
    for status in statuses:
        item = _parse_status(status, ctx)
        if item is not None:
            items.append(item)
    if not messages and not statuses:
        reason = errors_text(value.get("errors")) or "change carries no messages or statuses"
        items.append(unsupported_event(ctx.account, "errors", reason, change, entry_id))
    return items


# --- statuses ---------------------------------------------------------------------------------


def _parse_status(status: Any, ctx: ChangeContext) -> Inbound | None:
    if not isinstance(status, dict) or not status.get("id"):
        reason = "status without an id"
        return unsupported_event(ctx.account, "status", reason, status, ctx.entry_id)
    try:
        return _read_status(status, ctx)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        reason = f"status could not be read: {payload.reason(exc)}"
        return unsupported_event(ctx.account, "status", reason, status, ctx.entry_id)


def _read_status(status: dict[str, Any], ctx: ChangeContext) -> Inbound | None:
    name = payload.text(status, "status")
    if name in IGNORED_STATUSES:
        return None
    state = STATUS_STATES.get(name)
    if state is None:
        external_id = f"status:{status['id']}:{name}:{status.get('timestamp', '')}"
        return UnsupportedEvent(
            channel=CHANNEL,
            account=ctx.account,
            external_id=external_id,
            kind=f"status:{name}",
            reason=f"status {name!r} is not handled",
            raw=ctx.raw_with("statuses", status),
        )
    errors = status.get("errors") if isinstance(status.get("errors"), list) else []
    first = errors[0] if errors and isinstance(errors[0], dict) else {}
    return DeliveryStatus(
        channel=CHANNEL,
        account=ctx.account,
        platform_message_id=payload.ident(status, "id"),
        state=state,
        at=unix_time(status.get("timestamp"), ctx.received_at),
        error_code=str(first["code"]) if first.get("code") is not None else None,
        error_message=errors_text(errors, with_code=False) if errors else None,
        raw=ctx.raw_with("statuses", status),
    )
