"""Graph objects (DMs, comments, mentions) read into Kanal's inbound items (pure: no I/O)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from channels.base import (
    Attachment,
    AttachmentKind,
    DeliveryState,
    DeliveryStatus,
    Inbound,
    InboundMessage,
    Notice,
    UnsupportedEvent,
)
from channels.meta.graph import graph_time
from channels.texts import channel_texts

# What an operator reads about where a report came from (Indonesian).
TEXTS = channel_texts("meta_parse")
CAPTION_LENGTH = 80

# Prefixes keep the three kinds apart in one channel's id space and tell send() what it answers.
COMMENT_PREFIX = "comment:"
MENTION_PREFIX = "mention:"


@dataclass(frozen=True, slots=True)
class Dialect:
    """How one platform spells the same things in Graph objects."""

    channel: str  # "facebook" | "instagram"
    label: str  # the platform's name for operators
    text_key: str  # "message" | "text"
    time_key: str  # "created_time" | "timestamp"
    caption_key: str  # "message" | "caption"
    link_key: str  # "permalink_url" | "permalink"


@dataclass(frozen=True, slots=True)
class Post:
    id: str
    caption: str
    link: str | None = None


@dataclass(frozen=True, slots=True)
class Item:
    """One DM, comment or mention as fetched, before it is judged ours or the reporter's."""

    kind: str  # "message" | "comment" | "mention"
    id: str  # the platform's id
    at: datetime | None  # None when Graph gave no time: the reader dates it when read
    sender_id: str | None
    sender_name: str | None
    text: str
    raw: dict[str, Any]
    contact: str | None = None
    attachments: tuple[Attachment, ...] = ()
    thread: str | None = None  # conversation id, or the parent comment's external id
    post: Post | None = None
    problem: str | None = None
    notice: Notice | None = None  # a DM Kanal cannot show (see channels.base.Notice)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def external_id(self) -> str:
        prefix = {"comment": COMMENT_PREFIX, "mention": MENTION_PREFIX}.get(self.kind, "")
        return prefix + self.id

    @property
    def digest(self) -> str:
        """Changes when the text does: how an edited comment is noticed."""
        # surrogatepass: a lone surrogate in a comment must not stop the poll (it raised here).
        return hashlib.sha256(self.text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def read_post(obj: dict[str, Any], dialect: Dialect) -> Post:
    caption = obj.get(dialect.caption_key) or obj.get("story") or ""
    return Post(str(obj.get("id", "")), str(caption), obj.get(dialect.link_key))


def read_dm(obj: dict[str, Any], conversation_id: str, dialect: Dialect) -> Item | None:
    if not obj.get("id"):
        return None
    sender = obj.get("from") if isinstance(obj.get("from"), dict) else {}
    attachments, notes = _dm_attachments(obj)
    text = str(obj.get("message") or "")
    text = "\n".join(part for part in (text, *notes) if part)
    problem = notice = None
    if not text and not attachments:
        problem = "message without text or readable attachments"
        notice = Notice.UNSUPPORTED
    username = sender.get("username")
    return Item(
        kind="message",
        id=str(obj["id"]),
        at=graph_time(obj.get("created_time")),
        sender_id=str(sender["id"]) if sender.get("id") else None,
        sender_name=sender.get("name") or username,
        contact=f"@{username}" if username else None,
        text=text,
        raw={"conversation_id": conversation_id, "message": obj},
        attachments=attachments,
        thread=conversation_id,
        problem=problem,
        notice=notice,
    )


def read_comment(obj: dict[str, Any], post: Post, dialect: Dialect) -> Item | None:
    if not obj.get("id"):
        return None
    sender = obj.get("from") if isinstance(obj.get("from"), dict) else {}
    username = sender.get("username") or obj.get("username")
    parent = obj.get("parent")
    parent_id = parent.get("id") if isinstance(parent, dict) else obj.get("parent_id")
    attachment = _comment_attachment(obj.get("attachment"))
    return Item(
        kind="comment",
        id=str(obj["id"]),
        at=graph_time(obj.get(dialect.time_key)),
        sender_id=str(sender["id"]) if sender.get("id") else None,
        sender_name=sender.get("name") or username,
        contact=f"@{username}" if username else None,
        text=str(obj.get(dialect.text_key) or ""),
        raw={"comment": obj, "post": {"id": post.id, "caption": post.caption, "link": post.link}},
        attachments=(attachment,) if attachment else (),
        thread=COMMENT_PREFIX + str(parent_id) if parent_id else None,
        post=post,
    )


def read_mention(obj: dict[str, Any], dialect: Dialect) -> Item | None:
    """A post by someone else that tags the account; its caption is the report."""
    if not obj.get("id"):
        return None
    sender = obj.get("from") if isinstance(obj.get("from"), dict) else {}
    username = sender.get("username") or obj.get("username")
    post = read_post(obj, dialect)
    media = obj.get("media_url")
    attachments: tuple[Attachment, ...] = ()
    if isinstance(media, str) and media:
        kind = AttachmentKind.VIDEO if obj.get("media_type") == "VIDEO" else AttachmentKind.IMAGE
        attachments = (Attachment(kind=kind, media_ref=media),)
    return Item(
        kind="mention",
        id=str(obj["id"]),
        at=graph_time(obj.get(dialect.time_key)),
        sender_id=str(sender["id"]) if sender.get("id") else username,
        sender_name=sender.get("name") or username,
        contact=f"@{username}" if username else None,
        text=post.caption,
        raw={"mention": obj},
        attachments=attachments,
        post=post,
    )


def to_inbound(item: Item, *, account: str, own_ids: frozenset[str], dialect: Dialect) -> Inbound:
    """The reporter's items become messages; the account's own become SENT receipts."""
    if item.sender_id is not None and item.sender_id in own_ids:
        # Our own reply, seen from the platform's side: it confirms an outbox send (if it was
        # Kanal's) and never opens a ticket.
        return DeliveryStatus(
            channel=dialect.channel,
            account=account,
            platform_message_id=item.id,
            state=DeliveryState.SENT,
            at=item.at,
            raw=item.raw,
        )
    if not item.sender_id:
        return UnsupportedEvent(
            channel=dialect.channel,
            account=account,
            external_id=item.external_id,
            kind=f"{item.kind}:no_sender",
            reason=f"{item.kind} without a sender id (the token may lack a permission)",
            raw=item.raw,
        )
    subject = None
    if item.post is not None:
        template = "mention_subject" if item.kind == "mention" else "comment_subject"
        subject = TEXTS[template].format(caption=shorten(item.post.caption))
    return InboundMessage(
        channel=dialect.channel,
        account=account,
        external_id=item.external_id,
        sender_id=item.sender_id,
        sent_at=item.at,
        text=item.text,
        display_name=item.sender_name,
        contact=item.contact,
        attachments=item.attachments,
        reply_to=item.thread,
        subject=subject,
        parse_error=item.problem,
        notice=item.notice,
        raw=item.raw,
        public=item.kind in ("comment", "mention"),
    )


def shorten(caption: str) -> str:
    flat = " ".join(caption.split())
    if not flat:
        return TEXTS["no_caption"]
    return flat if len(flat) <= CAPTION_LENGTH else flat[: CAPTION_LENGTH - 1].rstrip() + "…"


# --- attachments ------------------------------------------------------------------------------


def _dm_attachments(obj: dict[str, Any]) -> tuple[tuple[Attachment, ...], list[str]]:
    listing = obj.get("attachments")
    data = listing.get("data") if isinstance(listing, dict) else listing
    found: list[Attachment] = []
    notes: list[str] = []
    for part in data if isinstance(data, list) else []:
        if not isinstance(part, dict):
            continue
        attachment = _dm_attachment(part)
        if attachment is not None:
            found.append(attachment)
    for key, template in (("shares", "share"), ("story", "story")):
        link = _link_of(obj.get(key))
        if link:
            notes.append(TEXTS[template].format(link=link))
    return tuple(found), notes


def _dm_attachment(part: dict[str, Any]) -> Attachment | None:
    mime = part.get("mime_type")
    image = part.get("image_data") if isinstance(part.get("image_data"), dict) else None
    video = part.get("video_data") if isinstance(part.get("video_data"), dict) else None
    if image and image.get("url"):
        kind = AttachmentKind.STICKER if image.get("render_as_sticker") else AttachmentKind.IMAGE
        url = image["url"]
    elif video and video.get("url"):
        kind, url = AttachmentKind.VIDEO, video["url"]
    elif part.get("file_url"):
        kind, url = _kind_of_mime(mime), part["file_url"]
    else:
        return None
    size = part.get("size")
    return Attachment(
        kind=kind,
        mime_type=mime,
        media_ref=str(url),
        size=size if isinstance(size, int) else None,
        file_name=part.get("name"),
    )


def _comment_attachment(part: Any) -> Attachment | None:
    if not isinstance(part, dict):
        return None
    media = part.get("media") if isinstance(part.get("media"), dict) else {}
    image = media.get("image") if isinstance(media.get("image"), dict) else {}
    kind_name = str(part.get("type") or "")
    if "video" in kind_name and media.get("source"):
        return Attachment(kind=AttachmentKind.VIDEO, media_ref=str(media["source"]))
    if image.get("src"):
        kind = AttachmentKind.STICKER if kind_name == "sticker" else AttachmentKind.IMAGE
        return Attachment(kind=kind, media_ref=str(image["src"]))
    return None


def _kind_of_mime(mime: Any) -> AttachmentKind:
    major = str(mime or "").split("/", 1)[0]
    kinds: dict[str, AttachmentKind] = {
        "image": AttachmentKind.IMAGE,
        "video": AttachmentKind.VIDEO,
        "audio": AttachmentKind.AUDIO,
    }
    return kinds.get(major, AttachmentKind.DOCUMENT)


def _link_of(value: Any) -> str | None:
    if isinstance(value, dict):
        data = value.get("data")
        if isinstance(data, list) and data and isinstance(data[0], dict):
            value = data[0]
        for key in ("link", "url", "template"):
            if isinstance(value.get(key), str):
                return value[key]
        for nested in ("mention", "reply_to"):
            if isinstance(value.get(nested), dict):
                return _link_of(value[nested])
    return None
