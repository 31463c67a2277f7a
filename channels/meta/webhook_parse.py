"""Meta's webhook for Pages and Instagram (DMs, comments), read into the same items as polling.

Ids match the poller's (DM mid, "comment:<id>", edits by text digest), so an event that arrives
both ways is stored once. Pure: no I/O, no clock.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from channels import payload
from channels.base import (
    Attachment,
    AttachmentKind,
    Inbound,
    MessageUpdate,
    UnsupportedEvent,
    UpdateKind,
)
from channels.meta.parse import COMMENT_PREFIX, Dialect, Item, Post, to_inbound

WEBHOOK_OBJECTS = {"facebook": "page", "instagram": "instagram"}
# Known on purpose and dropped: receipts of the reporter's app, nothing to act on.
IGNORED_MESSAGING = frozenset({"read", "delivery"})
IGNORED_FIELDS = frozenset({"message_reactions", "messaging_seen", "story_insights"})
# A comment's stored id carries a prefix and, for an edit, a suffix: room for both.
_COMMENT_ID_LENGTH = payload.ID_LENGTH - 40
_ATTACHMENT_KINDS = {
    "image": AttachmentKind.IMAGE,
    "video": AttachmentKind.VIDEO,
    "audio": AttachmentKind.AUDIO,
    "file": AttachmentKind.DOCUMENT,
}


@dataclass(frozen=True, slots=True)
class HookContext:
    dialect: Dialect
    account: str
    own_ids: frozenset[str]
    received_at: datetime

    def unsupported(self, kind: str, reason: str, payload: Any) -> UnsupportedEvent:
        canonical = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
        return UnsupportedEvent(
            channel=self.dialect.channel,
            account=self.account,
            external_id=f"webhook:{kind}:{hashlib.sha256(canonical).hexdigest()}",
            kind=f"webhook:{kind}",
            reason=reason,
            raw=payload if isinstance(payload, dict) else {"payload": payload},
        )

    def inbound(self, item: Item) -> Inbound:
        return to_inbound(item, account=self.account, own_ids=self.own_ids, dialect=self.dialect)


def parse_webhook(body: bytes, ctx: HookContext) -> list[Inbound]:
    """Every DM and comment in one (already authenticated) delivery; never raises."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        return [
            ctx.unsupported(
                "invalid_json", f"body is not JSON: {exc}", body.decode(errors="replace")
            )
        ]
    expected = WEBHOOK_OBJECTS[ctx.dialect.channel]
    if not isinstance(data, dict) or data.get("object") != expected:
        return [ctx.unsupported("object", f"not a {expected!r} webhook body", data)]
    items: list[Inbound] = []
    for entry in data.get("entry") if isinstance(data.get("entry"), list) else []:
        if not isinstance(entry, dict):
            items.append(ctx.unsupported("entry", "entry is not an object", entry))
            continue
        for key, parse in (("messaging", _messaging), ("changes", _change)):
            events = entry.get(key)
            if events is None:
                continue
            if not isinstance(events, list):
                items.append(ctx.unsupported("entry", f"{key!r} is not a list", entry))
                continue
            for event in events:
                items.extend(_guarded(parse, event, ctx, "change" if key == "changes" else key))
    return items


def _guarded(
    parse: Callable[[dict[str, Any], HookContext], list[Inbound]],
    event: Any,
    ctx: HookContext,
    kind: str,
) -> list[Inbound]:
    if not isinstance(event, dict):
        return [ctx.unsupported(kind, f"{kind} is not an object", event)]
    try:
        return parse(event, ctx)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        # Kept whole with its payload: one malformed event must never fail the delivery.
        return [ctx.unsupported(kind, f"{kind} could not be read: {payload.reason(exc)}", event)]


# --- DMs --------------------------------------------------------------------------------------


def _messaging(event: dict[str, Any], ctx: HookContext) -> list[Inbound]:
    sender = payload.ident(payload.obj(event, "sender"), "id", payload.SENDER_LENGTH)
    at = _millis(event.get("timestamp"), ctx.received_at)
    if "message" in event:
        return [_message(payload.obj(event, "message"), sender, at, event, ctx)]
    if "reaction" in event:
        reaction = payload.obj(event, "reaction")
        emoji = payload.text(reaction, "emoji") if reaction.get("action") != "unreact" else ""
        mid = payload.ident(reaction, "mid")
        stamp = payload.integer(event, "timestamp", 0, 2**63 - 1)
        update = MessageUpdate(
            channel=ctx.dialect.channel,
            account=ctx.account,
            external_id=f"reaction:{mid}:{sender}:{stamp}",
            target_external_id=mid,
            kind=UpdateKind.REACTION,
            sender_id=sender,
            sent_at=at,
            text=emoji or "",
            raw=event,
        )
        return [update]
    if IGNORED_MESSAGING & event.keys():
        return []
    kinds = sorted(k for k in event if k not in ("sender", "recipient", "timestamp"))
    return [ctx.unsupported("messaging", f"messaging event {kinds} is not handled", event)]


def _message(
    message: dict[str, Any], sender: str, at: datetime, event: dict[str, Any], ctx: HookContext
) -> Inbound:
    attachments = tuple(
        Attachment(
            kind=_ATTACHMENT_KINDS.get(str(a.get("type")), AttachmentKind.OTHER),
            media_ref=str(a["payload"]["url"]),
        )
        for a in payload.array(message, "attachments")
        if isinstance(a, dict) and isinstance(a.get("payload"), dict) and a["payload"].get("url")
    )
    reply_to = message.get("reply_to") if isinstance(message.get("reply_to"), dict) else {}
    own = bool(message.get("is_echo"))
    item = Item(
        kind="message",
        id=payload.ident(message, "mid"),
        at=at,
        # An echo is what the page sent: its sender is the page, whatever the event says.
        sender_id=next(iter(sorted(ctx.own_ids))) if own else sender,
        sender_name=None,
        text=payload.text(message, "text"),
        raw={"webhook": event},
        attachments=attachments,
        thread=payload.opt_ident(reply_to, "mid"),
    )
    return ctx.inbound(item)


# --- comments ---------------------------------------------------------------------------------


def _change(change: dict[str, Any], ctx: HookContext) -> list[Inbound]:
    field = change.get("field")
    value = change.get("value")
    if field in IGNORED_FIELDS:
        return []
    parser = CHANGE_PARSERS.get(str(field))
    if parser is None or not isinstance(value, dict):
        return [ctx.unsupported(f"field:{field}", f"change field {field!r} is not handled", change)]
    return parser(value, change, ctx)


def _feed(value: dict[str, Any], change: dict[str, Any], ctx: HookContext) -> list[Inbound]:
    """Facebook Page feed: only comments are reports; posts, likes and the rest are not."""
    if value.get("item") != "comment":
        return []
    comment_id = payload.ident(value, "comment_id", _COMMENT_ID_LENGTH)
    parent = payload.opt_ident(value, "parent_id", _COMMENT_ID_LENGTH)
    sender = payload.obj(value, "from")
    item = Item(
        kind="comment",
        id=comment_id,
        at=_seconds(value.get("created_time"), ctx.received_at),
        sender_id=payload.opt_ident(sender, "id", payload.SENDER_LENGTH),
        sender_name=payload.opt_text(sender, "name"),
        text=payload.text(value, "message"),
        raw={"webhook": change},
        thread=COMMENT_PREFIX + str(parent) if parent and parent != value.get("post_id") else None,
        post=None,
    )
    return [_comment_event(item, payload.text(value, "verb") or "add", ctx)]


def _ig_comment(value: dict[str, Any], change: dict[str, Any], ctx: HookContext) -> list[Inbound]:
    sender = payload.obj(value, "from")
    media = value.get("media") if isinstance(value.get("media"), dict) else {}
    username = payload.opt_text(sender, "username", payload.NAME_LENGTH - 1)
    parent = payload.opt_ident(value, "parent_id", _COMMENT_ID_LENGTH)
    post = payload.opt_ident(media, "id")
    item = Item(
        kind="comment",
        id=payload.ident(value, "id", _COMMENT_ID_LENGTH),
        at=ctx.received_at,  # Instagram's comment webhook carries no time
        sender_id=payload.opt_ident(sender, "id", payload.SENDER_LENGTH),
        sender_name=username,
        contact=f"@{username}" if username else None,
        text=payload.text(value, "text"),
        raw={"webhook": change},
        thread=COMMENT_PREFIX + parent if parent else None,
        post=Post(post, "") if post else None,
    )
    return [_comment_event(item, "add", ctx)]


def _comment_event(item: Item, verb: str, ctx: HookContext) -> Inbound:
    if verb == "add":
        inbound = ctx.inbound(item)
        return inbound
    kind = {"edited": UpdateKind.EDIT, "remove": UpdateKind.DELETE}.get(verb)
    if kind is None:
        return ctx.unsupported(f"verb:{verb}", f"comment verb {verb!r} is not handled", item.raw)
    suffix = f"edit:{item.digest}" if kind is UpdateKind.EDIT else "delete"
    return MessageUpdate(
        channel=ctx.dialect.channel,
        account=ctx.account,
        external_id=f"{item.external_id}:{suffix}",
        target_external_id=item.external_id,
        kind=kind,
        sender_id=item.sender_id or "",
        sent_at=item.at or ctx.received_at,
        text=item.text if kind is UpdateKind.EDIT else "",
        raw=item.raw,
    )


ChangeParser = Callable[[dict[str, Any], dict[str, Any], HookContext], list[Inbound]]
# The one table of change fields read; "mentions" is left to polling, which can fetch the post.
CHANGE_PARSERS: dict[str, ChangeParser] = {"feed": _feed, "comments": _ig_comment}


def _millis(value: Any, fallback: datetime) -> datetime:
    try:
        return datetime.fromtimestamp(int(value) / 1000, UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return fallback


def _seconds(value: Any, fallback: datetime) -> datetime:
    try:
        return datetime.fromtimestamp(int(value), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return fallback
