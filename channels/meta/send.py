"""Replies on Instagram and Facebook: DMs in the messaging window, public or private replies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from channels.base import OutboundMessage, PlatformError
from channels.meta.parse import COMMENT_PREFIX, MENTION_PREFIX
from channels.spec import META_REPLY_WINDOW
from channels.texts import channel_texts

# A reporter's DM opens Meta's 24-hour window; HUMAN_AGENT-tagged replies may come up to 7 days
# later.
SERVICE_WINDOW = META_REPLY_WINDOW
HUMAN_AGENT_WINDOW = timedelta(days=7)
PRIVATE_REPLY_WINDOW = timedelta(days=7)  # one private reply per comment, within 7 days
WINDOW_CODE = "outside_window"
WINDOW_SUBCODE = 2018278  # Graph's own "sent outside of allowed window" (code 10)
MODES = ("public", "private")
# DM text limits: Messenger 2000 characters, Instagram 1000 bytes (UTF-8).
MESSAGE_LIMITS = {"Facebook": 2000, "Instagram": 1000}

# Shown to the operator when a reply cannot go out (Indonesian).
TEXTS = channel_texts("meta_send")


@dataclass(frozen=True, slots=True)
class SendRequest:
    path: str  # relative to api_base
    payload: dict[str, Any]


def send_request(
    message: OutboundMessage,
    now: datetime,
    *,
    page_id: str,
    label: str,
    reply_edge: str,
    default_mode: str,
    human_agent: bool,
) -> SendRequest:
    """The Graph call that answers `message`, or a permanent PlatformError saying why none may."""
    target = message.reply_to or ""
    if target.startswith(MENTION_PREFIX):
        raise _refused(TEXTS["mention"].format(label=label), "mention")
    if not target.startswith(COMMENT_PREFIX):
        return _direct_message(message, now, page_id=page_id, label=label, human_agent=human_agent)
    comment_id = target.removeprefix(COMMENT_PREFIX)
    mode = str(message.options.get("mode") or default_mode)
    if mode == "public":
        return SendRequest(f"{comment_id}/{reply_edge}", {"message": message.text})
    if mode != "private":
        raise _refused(TEXTS["bad_mode"].format(mode=mode), "bad_mode")
    last = message.last_inbound_at
    if last is not None and now - last >= PRIVATE_REPLY_WINDOW:
        raise _refused(TEXTS["private_too_late"], WINDOW_CODE)
    _check_length(message.text, label)
    payload = {"recipient": {"comment_id": comment_id}, "message": {"text": message.text}}
    return SendRequest(f"{page_id}/messages", payload)


def is_direct(message: OutboundMessage) -> bool:
    """A DM, not a reply under a comment or a post that tagged the account."""
    target = message.reply_to or ""
    return not target.startswith((COMMENT_PREFIX, MENTION_PREFIX))


def _direct_message(
    message: OutboundMessage, now: datetime, *, page_id: str, label: str, human_agent: bool
) -> SendRequest:
    last = message.last_inbound_at
    age = now - last if last is not None else None
    payload: dict[str, Any] = {
        "recipient": {"id": message.recipient_id},
        "message": _content(message, label),
    }
    if age is not None and age < SERVICE_WINDOW:
        payload["messaging_type"] = "RESPONSE"
    elif human_agent and age is not None and age < HUMAN_AGENT_WINDOW:
        payload |= {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}
    else:
        hours = int((HUMAN_AGENT_WINDOW if human_agent else SERVICE_WINDOW).total_seconds() // 3600)
        raise _refused(TEXTS["outside_window"].format(label=label, hours=hours), WINDOW_CODE)
    return SendRequest(f"{page_id}/messages", payload)


def _content(message: OutboundMessage, label: str) -> dict[str, Any]:
    """The text, or the one file (the outbox sends a DM's files one by one after its text),
    which the platform fetches from Kanal's signed public link (Send API attachment by URL)."""
    if not message.files:
        _check_length(message.text, label)
        return {"text": message.text}
    [file] = message.files
    if not file.url:
        raise _refused(TEXTS["no_file_address"].format(name=file.file_name, label=label), "no_url")
    kind = "image" if file.mime_type.startswith("image/") else "file"
    return {"attachment": {"type": kind, "payload": {"url": file.url, "is_reusable": False}}}


def _check_length(text: str, label: str) -> None:
    """Refused here with a reason the operator can act on, not by Graph's generic code 100."""
    limit = MESSAGE_LIMITS.get(label)
    if limit is None:
        return
    measured = len(text.encode()) if label == "Instagram" else len(text)
    if measured > limit:
        raise _refused(
            TEXTS["too_long"].format(label=label, size=measured, limit=limit), "too_long"
        )


def sent_id(body: dict[str, Any], label: str) -> str:
    """The id Graph gives the sent DM (`message_id`) or comment reply (`id`)."""
    found = body.get("message_id") or body.get("id")
    if not found:
        # Not retried: the reply may well have gone out, and a retry would post it twice.
        raise PlatformError(
            TEXTS["no_id"].format(label=label, body=str(body)[:300]), retryable=False
        )
    return str(found)


def outside_window(error: PlatformError) -> bool:
    return error.code == "10" and getattr(error, "subcode", None) == WINDOW_SUBCODE


def _refused(text: str, code: str) -> PlatformError:
    return PlatformError(text, retryable=False, code=code)
