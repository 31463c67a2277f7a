"""Replies by SMS: the body of POST {api_base}/messages and what its answer means.

The gateway splits a long text into a multipart SMS itself (up to 65535 characters), so the text
goes as written. Our idempotency key is the message `id`: the gateway refuses a second message
with the same id (409), which tells a retry after a lost answer that the first one went in.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from channels.base import OutboundMessage, PlatformError
from channels.sms.phone import recipient_number
from channels.texts import channel_texts

TEXTS = channel_texts("sms")
MESSAGES_PATH = "/messages"
MAX_ID_LENGTH = 36  # the gateway's limit for a message id
_SAFE_ID = re.compile(rf"[A-Za-z0-9_-]{{1,{MAX_ID_LENGTH}}}")


def message_id_for(idempotency_key: str) -> str:
    """The gateway message id for one outbox row, the same on every retry."""
    if _SAFE_ID.fullmatch(idempotency_key):
        return idempotency_key
    return hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]


def message_body(message: OutboundMessage, device_id: str) -> dict[str, Any]:
    """The JSON body for the send, or a PlatformError when the reporter has no number."""
    number = recipient_number(message.recipient_id, message.recipient_contact)
    if number is None:
        sender = message.recipient_contact or message.recipient_id
        raise PlatformError(
            TEXTS["not_a_number"].format(sender=sender), retryable=False, code="not_a_number"
        )
    body: dict[str, Any] = {
        "id": message_id_for(message.idempotency_key),
        "textMessage": {"text": message.text},
        "phoneNumbers": [number],
    }
    if device_id:
        body["deviceId"] = device_id  # several phones on one account: send from this one
    return body


def message_id_from(status: int, body: str, sent_id: str) -> str:
    """The gateway's id for the message; any refusal becomes a typed PlatformError."""
    if status in (200, 201, 202):
        data = _json(body)
        found = data.get("id") if isinstance(data, dict) else None
        return str(found) if isinstance(found, str) and found else sent_id
    if status == 409:
        return sent_id  # "message with the same id already exists": an earlier try went in
    data = _json(body)
    reason = data.get("message") if isinstance(data, dict) else None
    raise _refused(status, str(reason or body[:300] or f"HTTP {status}"))


def _refused(status: int, text: str) -> PlatformError:
    # 429 and 5xx heal with time (503: the phone's queue is full or it is offline); a refused
    # request (400), wrong credentials (401, 403) or a wrong api_base (404) do not. The gateway
    # documents no Retry-After: the outbox's own back-off paces the retries.
    return PlatformError(
        f"SMS Gateway HTTP {status}: {text}",
        retryable=status == 429 or status >= 500,
        code=f"http-{status}",
    )


def _json(body: str) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None
