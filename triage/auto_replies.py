"""Automatic answers to events outside any ticket (the Telegram /start greeting), via the outbox."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from channels.base import Inbound, OutboundMessage, UnsupportedEvent

KIND = "auto_reply"


def outbox_rows(fresh: Iterable[Inbound], now: datetime) -> list[dict[str, Any]]:
    """Outbox rows for the auto replies of events stored for the first time in this batch.

    The key is the event's own (channel, external id): a redelivered event is not fresh and
    asks nothing, and even a second row for it would be refused by the unique key.
    """
    rows = []
    for item in fresh:
        if not isinstance(item, UnsupportedEvent) or item.auto_reply is None:
            continue
        event = f"{item.channel}:{item.external_id}".encode("utf-8", "surrogatepass")
        rows.append(
            {
                "message_id": None,
                "channel": item.channel,
                "idempotency_key": f"{KIND}-{hashlib.sha256(event).hexdigest()[:48]}",
                "payload": {
                    "kind": KIND,
                    "account": item.account,
                    "recipient_id": item.auto_reply.recipient_id,
                    "text": item.auto_reply.text,
                    "event": item.external_id,
                },
                "state": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
        )
    return rows


def outbound(channel: str, idempotency_key: str, payload: dict[str, Any]) -> OutboundMessage:
    """The message an auto-reply outbox row sends."""
    return OutboundMessage(
        channel=channel,
        account=str(payload.get("account") or ""),
        recipient_id=str(payload.get("recipient_id") or ""),
        text=str(payload.get("text") or ""),
        idempotency_key=idempotency_key,
    )
