"""Automatic answers outside any ticket (the Telegram /start greeting, a status request about no
report of the sender's), via the outbox."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from channels.base import Inbound, InboundMessage, OutboundMessage, UnsupportedEvent

KIND = "auto_reply"


def outbox_rows(fresh: Iterable[Inbound], now: datetime) -> list[dict[str, Any]]:
    """Outbox rows for the auto replies of events stored for the first time in this batch.

    The key is the event's own (channel, external id): a redelivered event is not fresh and
    asks nothing, and even a second row for it would be refused by the unique key.
    """
    return [
        _row(
            item.channel,
            item.account,
            item.external_id,
            item.auto_reply.recipient_id,
            item.auto_reply.text,
            now,
        )
        for item in fresh
        if isinstance(item, UnsupportedEvent) and item.auto_reply is not None
    ]


def row(message: InboundMessage, text: str, now: datetime) -> dict[str, Any]:
    """An answer to a message that joins no ticket (a status request about no report of the
    sender's), keyed like the other auto replies by the message's own id."""
    answer = _row(
        message.channel, message.account, message.external_id, message.sender_id, text, now
    )
    # The reporter just wrote: the platform's reply window (WhatsApp's 24 hours) is open.
    answer["payload"]["last_inbound_at"] = message.sent_at.isoformat()
    return answer


def _row(
    channel: str, account: str, external_id: str, recipient_id: str, text: str, now: datetime
) -> dict[str, Any]:
    event = f"{channel}:{external_id}".encode("utf-8", "surrogatepass")
    return {
        "message_id": None,
        "channel": channel,
        "idempotency_key": f"{KIND}-{hashlib.sha256(event).hexdigest()[:48]}",
        "payload": {
            "kind": KIND,
            "account": account,
            "recipient_id": recipient_id,
            "text": text,
            "event": external_id,
        },
        "state": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


def outbound(channel: str, idempotency_key: str, payload: dict[str, Any]) -> OutboundMessage:
    """The message an auto-reply outbox row sends."""
    return OutboundMessage(
        channel=channel,
        account=str(payload.get("account") or ""),
        recipient_id=str(payload.get("recipient_id") or ""),
        text=str(payload.get("text") or ""),
        idempotency_key=idempotency_key,
        last_inbound_at=(
            datetime.fromisoformat(payload["last_inbound_at"])
            if payload.get("last_inbound_at")
            else None
        ),
    )
