"""The WhatsApp message types Kanal reads, one parse function each, in one dispatch table."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from channels import payload
from channels.base import (
    Attachment,
    AttachmentKind,
    Inbound,
    InboundMessage,
    Location,
    MessageUpdate,
    Notice,
    UnsupportedEvent,
    UpdateKind,
)
from channels.texts import channel_texts
from channels.whatsapp.identity import sender_id_of, sender_profile

CHANNEL = "whatsapp"
WEBHOOK_OBJECT = "whatsapp_business_account"

# What an operator reads in place of a message Kanal cannot show as it was sent (Indonesian).
TEXTS = channel_texts("whatsapp")

# Known on purpose and dropped: no report in it.
IGNORED_MESSAGE_TYPES = frozenset({"request_welcome"})  # the user opened the chat, wrote nothing

_MEDIA_KINDS = {
    "image": AttachmentKind.IMAGE,
    "video": AttachmentKind.VIDEO,
    "document": AttachmentKind.DOCUMENT,
    "sticker": AttachmentKind.STICKER,
}
_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")


class _Unreadable(Exception):
    """A message of a supported type whose content is missing or malformed."""


@dataclass(slots=True)  # not frozen: a frozen dataclass costs several times more to build
class ChangeContext:
    """What every message of one `changes[]` entry shares."""

    account: str
    entry_id: str
    value: dict[str, Any]
    received_at: datetime

    def raw_with(self, key: str, item: dict[str, Any]) -> dict[str, Any]:
        """A webhook body holding only `item`, so what is stored reads like what was sent."""
        value = self.value.copy()
        value.pop("messages", None)
        value.pop("statuses", None)
        value[key] = [item]
        change = {"field": "messages", "value": value}
        return {"object": WEBHOOK_OBJECT, "entry": [{"id": self.entry_id, "changes": [change]}]}


# --- messages ---------------------------------------------------------------------------------


def parse_message(message: Any, ctx: ChangeContext) -> Inbound | None:
    if not isinstance(message, dict) or not message.get("id"):
        reason = "message without an id"
        return unsupported_event(ctx.account, "message", reason, message, ctx.entry_id)
    try:
        return _parse_message(message, ctx)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        # Even the fields every message shares are unreadable: kept whole, with the reason.
        reason = f"message could not be read: {payload.reason(exc)}"
        return unsupported_event(ctx.account, "unreadable", reason, message, ctx.entry_id)


def _parse_message(message: dict[str, Any], ctx: ChangeContext) -> Inbound | None:
    kind = payload.text(message, "type")
    if kind in IGNORED_MESSAGE_TYPES:
        return None
    if not (message.get("from") or message.get("from_user_id")):
        # Without a sender it cannot join a reporter's ticket: kept whole for the record.
        return unsupported_event(
            ctx.account, "message", "message without a sender", message, ctx.entry_id
        )
    parser = MESSAGE_PARSERS.get(kind)
    if parser is None:
        error = f"message type {kind!r} is not handled"
        return _placeholder(message, ctx, Notice.UNSUPPORTED_KIND, error, kind=kind)
    try:
        return parser(message, ctx)
    except _Unreadable as exc:
        return _placeholder(message, ctx, Notice.UNREADABLE, f"{kind}: {exc}")
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        return _placeholder(message, ctx, Notice.UNREADABLE, f"{kind}: {payload.reason(exc)}")


def _inbound(message: dict[str, Any], ctx: ChangeContext, **fields: Any) -> InboundMessage:
    """An InboundMessage with everything every message type shares already filled in."""
    context = message.get("context")
    if not isinstance(context, dict):
        context = {}
    sender_id = sender_id_of(message)
    profile_name, contact = sender_profile(ctx.value.get("contacts"), message)
    parse_error = fields.pop("parse_error", None)
    errors = errors_text(message.get("errors")) or errors_text(ctx.value.get("errors"))
    if errors:
        parse_error = f"{parse_error}; {errors}" if parse_error else errors
    referral = message.get("referral")
    subject = None
    if isinstance(referral, dict):
        subject = TEXTS["referral"].format(headline=referral.get("headline") or "")
        if referral.get("source_url"):
            subject += f" ({referral['source_url']})"
    return InboundMessage(
        channel=CHANNEL,
        account=ctx.account,
        external_id=payload.ident(message, "id"),
        sender_id=sender_id,
        sent_at=unix_time(message.get("timestamp"), ctx.received_at),
        display_name=profile_name,
        contact=contact,
        reply_to=payload.opt_ident(context, "id"),
        subject=subject,
        forwarded=bool(context.get("forwarded") or context.get("frequently_forwarded")),
        parse_error=parse_error,
        raw=ctx.raw_with("messages", message),
        **fields,
    )


def _placeholder(
    message: dict[str, Any], ctx: ChangeContext, notice: Notice, error: str | None, **args: str
) -> InboundMessage:
    """A message Kanal cannot show: kept, with a notice, so the operator sees the reporter wrote."""
    return _inbound(message, ctx, notice=notice, notice_args=args, parse_error=error)


def _part(message: dict[str, Any], key: str) -> dict[str, Any]:
    part = message.get(key)
    if not isinstance(part, dict):
        raise _Unreadable(f"missing {key!r} object")
    return part


def _text(message: dict[str, Any], ctx: ChangeContext) -> Inbound:
    return _inbound(message, ctx, text=payload.text(_part(message, "text"), "body"))


def _media(message: dict[str, Any], ctx: ChangeContext) -> Inbound:
    kind = message["type"]
    media = _part(message, kind)
    attachment_kind = _MEDIA_KINDS.get(kind, AttachmentKind.AUDIO)
    if kind == "audio" and media.get("voice"):
        attachment_kind = AttachmentKind.VOICE
    caption = payload.opt_text(media, "caption")
    attachment = Attachment(
        kind=attachment_kind,
        mime_type=payload.opt_text(media, "mime_type"),
        media_ref=payload.opt_ident(media, "id"),
        file_name=payload.opt_text(media, "filename"),
        sha256=media_sha256_hex(media.get("sha256")),
        caption=caption,
    )
    return _inbound(message, ctx, text=caption or "", attachments=(attachment,))


def _location(message: dict[str, Any], ctx: ChangeContext) -> Inbound:
    place = _part(message, "location")
    location = Location(
        latitude=payload.coordinate(place, "latitude", 90),
        longitude=payload.coordinate(place, "longitude", 180),
        name=payload.opt_text(place, "name"),
        address=payload.opt_text(place, "address"),
    )
    return _inbound(message, ctx, location=location)


def _contacts(message: dict[str, Any], ctx: ChangeContext) -> Inbound:
    cards = message.get("contacts")
    if not isinstance(cards, list) or not cards:
        raise _Unreadable("missing 'contacts' list")
    # Text only: a contact card has no file to fetch, so it is no attachment.
    text = "\n".join(TEXTS["contact"].format(name=_contact_line(card)) for card in cards)
    return _inbound(message, ctx, text=text)


def _contact_line(card: dict[str, Any]) -> str:
    name = (card.get("name") or {}).get("formatted_name") or ""
    phones = [p.get("phone") or p.get("wa_id") for p in card.get("phones") or []]
    emails = [e.get("email") for e in card.get("emails") or []]
    return ", ".join(part for part in [name, *phones, *emails] if part)


def _interactive(message: dict[str, Any], ctx: ChangeContext) -> Inbound:
    interactive = _part(message, "interactive")
    kind = interactive.get("type")
    if kind not in ("button_reply", "list_reply"):
        error = f"interactive type {kind!r} is not handled"
        kind = f"interactive/{kind}"
        return _placeholder(message, ctx, Notice.UNSUPPORTED_KIND, error, kind=kind)
    choice = _part(interactive, kind)
    text = payload.text(choice, "title")
    description = payload.text(choice, "description")
    if description:
        text += f" ({description})"
    # The id is the one Kanal gave the button or row (channels.base.Choice).
    return _inbound(message, ctx, text=text, choice=payload.opt_text(choice, "id"))


def _button(message: dict[str, Any], ctx: ChangeContext) -> Inbound:
    """A template's quick-reply button: `payload` is the id the template gave it."""
    button = _part(message, "button")
    text = payload.text(button, "text") or payload.text(button, "payload")
    return _inbound(message, ctx, text=text, choice=payload.opt_text(button, "payload"))


def _reaction(message: dict[str, Any], ctx: ChangeContext) -> Inbound:
    reaction = _part(message, "reaction")
    # An empty or missing emoji means the reporter took the reaction back.
    emoji = payload.text(reaction, "emoji")
    return _update(message, ctx, UpdateKind.REACTION, reaction, "message_id", emoji)


def _edit(message: dict[str, Any], ctx: ChangeContext) -> Inbound:
    edit = _part(message, "edit")
    new = edit.get("message") if isinstance(edit.get("message"), dict) else {}
    new_kind = payload.text(new, "type")
    content = new.get(new_kind) if isinstance(new.get(new_kind), dict) else {}
    text = payload.text(content, "body" if new_kind == "text" else "caption")
    return _update(message, ctx, UpdateKind.EDIT, edit, "original_message_id", text)


def _revoke(message: dict[str, Any], ctx: ChangeContext) -> Inbound:
    revoke = _part(message, "revoke")
    return _update(message, ctx, UpdateKind.DELETE, revoke, "original_message_id", "")


def _update(
    message: dict[str, Any],
    ctx: ChangeContext,
    kind: UpdateKind,
    part: dict[str, Any],
    target_key: str,
    text: str | None,
) -> MessageUpdate:
    if not part.get(target_key):
        raise _Unreadable(f"missing {target_key!r}")
    return MessageUpdate(
        channel=CHANNEL,
        account=ctx.account,
        external_id=payload.ident(message, "id"),
        target_external_id=payload.ident(part, target_key),
        kind=kind,
        sender_id=sender_id_of(message),
        sent_at=unix_time(message.get("timestamp"), ctx.received_at),
        text=text or "",
        raw=ctx.raw_with("messages", message),
    )


def _system(message: dict[str, Any], ctx: ChangeContext) -> Inbound:
    system = _part(message, "system")
    kind = f"system:{system.get('type') or 'unknown'}"
    reason = f"system notice, not a report: {system.get('body') or ''}".strip()
    return UnsupportedEvent(
        channel=CHANNEL,
        account=ctx.account,
        external_id=payload.ident(message, "id"),
        kind=kind,
        reason=reason,
        raw=ctx.raw_with("messages", message),
    )


def _unsupported_type(message: dict[str, Any], ctx: ChangeContext) -> Inbound:
    """WhatsApp itself could not pass the message on (polls, view-once media, ...)."""
    detail = message.get("unsupported") if isinstance(message.get("unsupported"), dict) else {}
    kind = detail.get("type")
    # The reason is in the message's own errors[], which _inbound adds.
    error = None if message.get("errors") else "WhatsApp marked the message unsupported"
    if kind:
        return _placeholder(message, ctx, Notice.UNSUPPORTED_KIND, error, kind=str(kind))
    return _placeholder(message, ctx, Notice.UNSUPPORTED, error)


MessageParser = Callable[[dict[str, Any], ChangeContext], Inbound]

# The one table of message types Kanal reads; any other type becomes a placeholder message.
MESSAGE_PARSERS: dict[str, MessageParser] = {
    "text": _text,
    "image": _media,
    "video": _media,
    "audio": _media,
    "document": _media,
    "sticker": _media,
    "location": _location,
    "contacts": _contacts,
    "interactive": _interactive,
    "button": _button,
    "reaction": _reaction,
    "edit": _edit,
    "revoke": _revoke,
    "system": _system,
    "unsupported": _unsupported_type,
}


# --- small readers ----------------------------------------------------------------------------


def media_sha256_hex(value: Any) -> str | None:
    """WhatsApp announces SHA-256 as base64 in webhooks and as hex from the media endpoint."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    if _HEX64.match(value):
        return value.lower()
    try:
        digest = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    return digest.hex() if len(digest) == 32 else None


def unix_time(value: Any, fallback: datetime) -> datetime:
    try:
        return datetime.fromtimestamp(int(value), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return fallback


def errors_text(errors: Any, *, with_code: bool = True) -> str | None:
    """`errors[]` as one line per error: "131051 Message type unknown: details"."""
    if not isinstance(errors, list) or not errors:
        return None
    lines = []
    for error in errors:
        if not isinstance(error, dict):
            continue
        line = str(error.get("title") or error.get("message") or "")
        if with_code:
            line = f"{error.get('code', '')} {line}"
        data = error.get("error_data")
        details = data.get("details") if isinstance(data, dict) else None
        lines.append(f"{line.strip()}: {details}" if details else line.strip())
    return "; ".join(lines) or None


def unsupported_event(
    account: str, kind: str, reason: str, payload: Any, scope: str
) -> UnsupportedEvent:
    """Kept with its payload; its id is the payload's hash, so a redelivery is stored once."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    digest = hashlib.sha256(canonical).hexdigest()
    raw = payload if isinstance(payload, dict) else {"payload": payload}
    return UnsupportedEvent(
        channel=CHANNEL,
        account=account,
        external_id=f"{kind}:{scope}:{digest}",
        kind=kind,
        reason=reason,
        raw=raw,
    )
