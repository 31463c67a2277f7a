"""Replies on WhatsApp: free text inside the 24-hour window (reply buttons when the message
offers choices), the approved template outside it."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from channels.base import Choice, OutboundMessage, PlatformError
from channels.spec import META_REPLY_WINDOW

# A reporter's message opens Meta's 24-hour customer-service window.
SERVICE_WINDOW = META_REPLY_WINDOW
OUTSIDE_WINDOW_CODE = "131047"

# Graph error codes that heal with time: rate limits, throughput, temporary trouble.
RETRYABLE_CODES = frozenset(
    {
        1,  # unknown / temporary
        2,  # service temporarily unavailable
        4,  # app-level API call limit
        17,  # user-level API call limit
        32,  # page-level API call limit
        613,  # calls to this API exceeded the rate limit
        80007,  # WhatsApp Business Account rate limit
        130429,  # throughput limit per phone number
        131000,  # something went wrong (generic, temporary)
        131016,  # service unavailable
        131048,  # spam rate limit
        131056,  # (business, consumer) pair rate limit
        133004,  # server temporarily unavailable
    }
)
# Codes that say "this will never work as sent"; anything else goes by the HTTP status.
PERMANENT_CODES = frozenset(
    {
        10,  # permission denied
        100,  # invalid parameter
        190,  # access token expired or invalid
        200,  # permission error
        368,  # temporarily blocked for policy violations
        131008,  # required parameter missing
        131009,  # parameter value not valid
        131026,  # message undeliverable
        131030,  # recipient not in the allowed list (test numbers)
        131031,  # business account locked
        131042,  # payment problem
        131045,  # phone number not registered / certificate
        131047,  # re-engagement: more than 24 hours since the reporter last wrote
        131049,  # marketing per-user limit: do not retry soon
        131051,  # unsupported message type
        131062,  # business-scoped user id recipients not supported for this message
        132000,  # template parameter count mismatch
        132001,  # template does not exist
        132005,  # template text too long
        132007,  # template format policy
        132012,  # template parameter format mismatch
        132015,  # template paused
        132016,  # template disabled
    }
)
_SPACES = re.compile(r"\s+")

# The Cloud API's limits on an interactive reply-button message.
MAX_BUTTONS = 3
MAX_BUTTON_TITLE = 20
MAX_BUTTON_ID = 256
MAX_INTERACTIVE_BODY = 1024


def within_window(last_inbound_at: datetime | None, now: datetime) -> bool:
    return last_inbound_at is not None and now - last_inbound_at < SERVICE_WINDOW


def message_payload(
    message: OutboundMessage,
    now: datetime,
    *,
    template_name: str,
    template_language: str,
) -> dict[str, Any]:
    """The JSON body for POST /{phone_number_id}/messages, or PlatformError if none may be sent."""
    payload: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
    }
    # A phone number goes in "to"; a business-scoped user id (a reporter known only by a
    # WhatsApp username, e.g. "ID.1349120865530274") in "recipient".
    recipient_key = "to" if message.recipient_id.isdigit() else "recipient"
    payload[recipient_key] = message.recipient_id
    if within_window(message.last_inbound_at, now) and fits_buttons(message.text, message.choices):
        payload["type"] = "interactive"
        payload["interactive"] = reply_buttons(message.text, message.choices)
    elif within_window(message.last_inbound_at, now):
        payload["type"] = "text"
        payload["text"] = {"preview_url": False, "body": message.text}
    elif template_name:
        # Template parameters may hold no line breaks, tabs or runs of spaces.
        parameter = _SPACES.sub(" ", message.text).strip()
        payload["type"] = "template"
        payload["template"] = {
            "name": template_name,
            "language": {"code": template_language},
            "components": [{"type": "body", "parameters": [{"type": "text", "text": parameter}]}],
        }
    else:
        raise PlatformError(
            "outside the 24-hour window since the reporter last wrote, and no template is "
            "configured (channels.whatsapp.template_name)",
            retryable=False,
            code=OUTSIDE_WINDOW_CODE,
        )
    if message.reply_to:
        payload["context"] = {"message_id": message.reply_to}
    # Echoed back in the status webhooks, which ties a receipt to our outbox row.
    payload["biz_opaque_callback_data"] = message.idempotency_key[:512]
    return payload


def fits_buttons(text: str, choices: tuple[Choice, ...]) -> bool:
    """Whether the choices can go as reply buttons; if not the text goes alone (it says how
    to answer in words)."""
    return (
        0 < len(choices) <= MAX_BUTTONS
        and 0 < len(text) <= MAX_INTERACTIVE_BODY
        and all(0 < len(c.title) <= MAX_BUTTON_TITLE for c in choices)
        and all(0 < len(c.id) <= MAX_BUTTON_ID for c in choices)
        and len({c.title for c in choices}) == len(choices)
    )


def reply_buttons(text: str, choices: tuple[Choice, ...]) -> dict[str, Any]:
    """The `interactive` object of a reply-button message."""
    buttons = [{"type": "reply", "reply": {"id": c.id, "title": c.title}} for c in choices]
    return {"type": "button", "body": {"text": text}, "action": {"buttons": buttons}}


def message_id_from(status: int, body: str, *, retry_after: float | None = None) -> str:
    """The wamid of a 200 answer; anything else becomes a typed PlatformError."""
    data = _json(body)
    if status == 200:
        messages = data.get("messages") if isinstance(data, dict) else None
        if isinstance(messages, list) and messages and isinstance(messages[0], dict):
            wamid = messages[0].get("id")
            if wamid:
                return str(wamid)
        # Not retried: the message may well have gone out, and a retry would send it twice.
        raise PlatformError(f"HTTP 200 without a message id: {body[:300]}", retryable=False)
    raise error_from(status, data, body, retry_after=retry_after)


def error_from(status: int, data: Any, body: str, *, retry_after: float | None) -> PlatformError:
    """A Graph error answer as a PlatformError: retryable or not, with the Graph code as text."""
    error = data.get("error") if isinstance(data, dict) else None
    error = error if isinstance(error, dict) else {}
    code = error.get("code")
    data = error.get("error_data")
    details = data.get("details") if isinstance(data, dict) else data
    text = str(error.get("message") or body[:300] or f"HTTP {status}")
    if details:
        text = f"{text}: {details}"
    if isinstance(code, int | str) and str(code).isdigit():
        number = int(code)
        if number in RETRYABLE_CODES:
            retryable = True
        elif number in PERMANENT_CODES:
            retryable = status == 429
        else:
            retryable = status == 429 or status >= 500
    else:
        retryable = status == 429 or status >= 500
    return PlatformError(
        f"WhatsApp HTTP {status}: {text}",
        retryable=retryable,
        code=str(code) if code is not None else f"http-{status}",
        retry_after=retry_after,
    )


def retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def _json(body: str) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None
