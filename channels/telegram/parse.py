"""Telegram Bot API updates turned into Kanal's inbound items (pure: no I/O, no clock)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from channels import payload
from channels.base import (
    Attachment,
    AttachmentKind,
    AutoReply,
    Inbound,
    InboundMessage,
    Location,
    MessageUpdate,
    Notice,
    UnsupportedEvent,
    UpdateKind,
)
from channels.texts import channel_texts_by_locale

CHANNEL = "telegram"

# What a reporter or an operator reads (Indonesian first; English for users whose Telegram is).
TEXTS = channel_texts_by_locale("telegram")
GREETING_COMMANDS = frozenset({"/start", "/help"})
# Update kinds known on purpose and dropped: none carries a report.
IGNORED_UPDATES = frozenset(
    {"my_chat_member", "chat_member", "chat_join_request", "message_reaction_count"}
)
# Service messages inside a chat (pins, joins, ...): kept out of tickets.
_SERVICE_KEYS = ("new_chat_members", "left_chat_member", "pinned_message", "new_chat_title")


@dataclass(slots=True)
class Parsed:
    items: list[Inbound]


def parse_updates(updates: list[Any], account: str, received_at: datetime) -> Parsed:
    parsed = Parsed([])
    for update in updates:
        _parse_update(update, account, received_at, parsed)
    return parsed


def _parse_update(update: Any, account: str, received_at: datetime, parsed: Parsed) -> None:
    if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
        parsed.items.append(_unsupported(account, "update", "update without an update_id", update))
        return
    kind = next((k for k in update if k != "update_id"), "empty")
    if kind in IGNORED_UPDATES:
        return
    body = update.get(kind)
    try:
        if kind == "message" and isinstance(body, dict):
            _message(update, body, account, received_at, parsed)
        elif kind == "edited_message" and isinstance(body, dict):
            parsed.items.append(_edit(update, body, account, received_at))
        else:
            reason = f"update kind {kind!r} is not handled"
            parsed.items.append(_unsupported(account, kind, reason, update))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        # Kept with its payload: one odd update must never hold back the others.
        reason = f"{kind} unreadable: {payload.reason(exc)}"
        parsed.items.append(_unsupported(account, kind, reason, update))


def _message(
    update: dict[str, Any],
    message: dict[str, Any],
    account: str,
    received_at: datetime,
    parsed: Parsed,
) -> None:
    chat = payload.obj(message, "chat")
    if chat.get("type") != "private":
        reason = f"{chat.get('type')} chats are not read; reports come in private chats"
        parsed.items.append(_unsupported(account, f"chat:{chat.get('type')}", reason, update))
        return
    if any(key in message for key in _SERVICE_KEYS):
        parsed.items.append(_unsupported(account, "service", "service message", update))
        return
    command = _command(message)
    if command in GREETING_COMMANDS:
        chat_id = payload.integer(chat, "id", -(2**53), 2**53)  # Telegram's ids fit 52 bits
        if chat_id is None:
            raise payload.Unreadable("'id' of the chat is missing")
        reason = f"{command}: greeted, no report"
        item = _unsupported(account, f"command:{command[1:]}", reason, update)
        # The greeting, in the sender's language, goes through the outbox with the update's
        # first storing: once per update; no ticket is opened.
        answer = AutoReply(str(chat_id), TEXTS["start"][_language(message)])
        parsed.items.append(replace(item, auto_reply=answer))
        return
    kind = next((k for k in MESSAGE_PARSERS if k in message), None)
    if kind is None:
        other = next((k for k in message if k not in _COMMON_KEYS), "unknown")
        parse_error = f"message kind {other!r} is not handled"
        parsed.items.append(
            _inbound(
                update,
                message,
                account,
                received_at,
                notice=Notice.UNSUPPORTED_KIND,
                notice_args={"kind": other},
                parse_error=parse_error,
            )
        )
        return
    parsed.items.append(MESSAGE_PARSERS[kind](update, message, account, received_at))


_COMMON_KEYS = frozenset(
    {
        "message_id",
        "from",
        "chat",
        "date",
        "reply_to_message",
        "entities",
        "caption_entities",
        "caption",
        "media_group_id",
        "forward_origin",
        "forward_from",
        "forward_date",
        "message_thread_id",
        "is_topic_message",
        "has_protected_content",
        "link_preview_options",
        "quote",
        "external_reply",
        "author_signature",
        "sender_chat",
        "via_bot",
        "edit_date",
    }
)


def _inbound(
    update: dict[str, Any],
    message: dict[str, Any],
    account: str,
    received_at: datetime,
    **fields: Any,
) -> InboundMessage:
    """An InboundMessage with what every Telegram message shares already filled in."""
    chat_id = payload.ident(payload.obj(message, "chat"), "id", _ID_LENGTH)
    sender = payload.obj(message, "from")
    name = _name(sender)
    username = payload.opt_text(sender, "username", _ID_LENGTH)
    reply = message.get("reply_to_message")
    reply_id = payload.ident(reply, "message_id", _ID_LENGTH) if isinstance(reply, dict) else None
    return InboundMessage(
        channel=CHANNEL,
        account=account,
        external_id=message_ref(chat_id, payload.ident(message, "message_id", _ID_LENGTH)),
        sender_id=payload.opt_ident(sender, "id", _ID_LENGTH) or chat_id,
        sent_at=_time(message.get("date"), received_at),
        display_name=name or None,
        contact=fields.pop("contact", None) or (f"@{username}" if username else None),
        reply_to=message_ref(chat_id, reply_id) if reply_id else None,
        forwarded=bool(message.get("forward_origin") or message.get("forward_date")),
        raw=update,
        **fields,
    )


def message_ref(chat_id: Any, message_id: Any) -> str:
    """A message's id is unique only within its chat."""
    return f"{chat_id}:{message_id}"


# Chat and message ids are joined into one stored id: each gets half of the column.
_ID_LENGTH = payload.ID_LENGTH // 2 - 1


def _name(person: dict[str, Any]) -> str:
    parts = (payload.text(person, "first_name"), payload.text(person, "last_name"))
    return " ".join(p for p in parts if p)


def _text(update: dict, message: dict, account: str, received_at: datetime) -> Inbound:
    return _inbound(update, message, account, received_at, text=payload.text(message, "text"))


def _photo(update: dict, message: dict, account: str, received_at: datetime) -> Inbound:
    sizes = [s for s in payload.array(message, "photo") if isinstance(s, dict) and s.get("file_id")]
    if not sizes:
        raise ValueError("photo without sizes")
    # Sizes come smallest first; the pixel count decides, in case an order ever differs.
    largest = max(sizes, key=lambda s: (s.get("width", 0) * s.get("height", 0), sizes.index(s)))
    caption = payload.opt_text(message, "caption")
    attachment = Attachment(
        kind=AttachmentKind.IMAGE,
        mime_type="image/jpeg",  # Telegram re-encodes every photo as JPEG
        media_ref=payload.ident(largest, "file_id"),
        size=payload.integer(largest, "file_size"),
        caption=caption,
    )
    return _inbound(
        update, message, account, received_at, text=caption or "", attachments=(attachment,)
    )


_FILE_KINDS = {
    "document": AttachmentKind.DOCUMENT,
    "video": AttachmentKind.VIDEO,
    "video_note": AttachmentKind.VIDEO,
    "animation": AttachmentKind.VIDEO,
    "audio": AttachmentKind.AUDIO,
    "voice": AttachmentKind.VOICE,
    "sticker": AttachmentKind.STICKER,
}


def _file(update: dict, message: dict, account: str, received_at: datetime) -> Inbound:
    key = next(k for k in _FILE_KINDS if k in message)
    part = payload.obj(message, key)
    caption = payload.opt_text(message, "caption")
    attachment = Attachment(
        kind=_FILE_KINDS[key],
        mime_type=payload.opt_text(part, "mime_type")
        or ("image/webp" if key == "sticker" else None),
        media_ref=payload.ident(part, "file_id"),
        size=payload.integer(part, "file_size"),
        file_name=payload.opt_text(part, "file_name"),
        caption=caption,
    )
    text = caption or (payload.text(part, "emoji") if key == "sticker" else "")
    return _inbound(update, message, account, received_at, text=text, attachments=(attachment,))


def _location(update: dict, message: dict, account: str, received_at: datetime) -> Inbound:
    venue = message.get("venue") if isinstance(message.get("venue"), dict) else {}
    place = payload.obj(venue, "location") or payload.obj(message, "location")
    location = Location(
        latitude=payload.coordinate(place, "latitude", 90),
        longitude=payload.coordinate(place, "longitude", 180),
        name=payload.opt_text(venue, "title"),
        address=payload.opt_text(venue, "address"),
    )
    return _inbound(update, message, account, received_at, location=location)


def _contact(update: dict, message: dict, account: str, received_at: datetime) -> Inbound:
    card = payload.obj(message, "contact")
    name = _name(card)
    phone = payload.opt_ident(card, "phone_number", _ID_LENGTH) or ""
    text = TEXTS["contact"]["id"].format(card=", ".join(p for p in (name, phone) if p))
    sender = (message.get("from") or {}).get("id")
    # Sharing one's own card (the "share my phone" button) tells us how to reach the reporter.
    own = card.get("user_id") is not None and card.get("user_id") == sender and phone
    contact = ("+" + phone.lstrip("+")) if own else None
    return _inbound(update, message, account, received_at, text=text, contact=contact)


MessageParser = Callable[[dict, dict, str, datetime], Inbound]

# The one table of message kinds Kanal reads, checked in this order (a venue carries a location).
MESSAGE_PARSERS: dict[str, MessageParser] = {
    "text": _text,
    "photo": _photo,
    **dict.fromkeys(_FILE_KINDS, _file),
    "venue": _location,
    "location": _location,
    "contact": _contact,
}


def _edit(
    update: dict[str, Any], message: dict[str, Any], account: str, received_at: datetime
) -> Inbound:
    chat_id = payload.ident(payload.obj(message, "chat"), "id", _ID_LENGTH)
    return MessageUpdate(
        channel=CHANNEL,
        account=account,
        external_id=f"update:{update['update_id']}",
        target_external_id=message_ref(chat_id, payload.ident(message, "message_id", _ID_LENGTH)),
        kind=UpdateKind.EDIT,
        sender_id=payload.opt_ident(payload.obj(message, "from"), "id", _ID_LENGTH) or chat_id,
        sent_at=_time(message.get("edit_date"), received_at),
        text=payload.text(message, "text") or payload.text(message, "caption"),
        raw=update,
    )


def _command(message: dict[str, Any]) -> str:
    """ "/start" of "/start", "/start@kanal_bot" or "/start payload"; "" for other text."""
    words = str(message.get("text") or "").split(maxsplit=1)
    return words[0].split("@")[0] if words and words[0].startswith("/") else ""


def _language(message: dict[str, Any]) -> str:
    code = str((message.get("from") or {}).get("language_code") or "")
    return "en" if code.startswith("en") else "id"


def _time(value: Any, fallback: datetime) -> datetime:
    try:
        return datetime.fromtimestamp(int(value), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return fallback


def _unsupported(account: str, kind: str, reason: str, update: Any) -> UnsupportedEvent:
    raw = update if isinstance(update, dict) else {"payload": update}
    update_id = raw.get("update_id")
    if not isinstance(update_id, int):
        canonical = json.dumps(raw, sort_keys=True, default=str).encode()
        update_id = "sha256-" + hashlib.sha256(canonical).hexdigest()
    return UnsupportedEvent(
        channel=CHANNEL,
        account=account,
        external_id=f"update:{update_id}",
        kind=kind,
        reason=reason,
        raw=raw,
    )
