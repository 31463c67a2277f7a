"""X API v2 pages (mentions timeline, DM events) turned into Kanal's inbound items (pure)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from channels.base import (
    Attachment,
    AttachmentKind,
    Inbound,
    InboundMessage,
    UnsupportedEvent,
)

CHANNEL = "x"
DM_PREFIX = "dm:"  # DM event ids are kept apart from tweet ids in external ids

# What the poller asks X for; the parser reads exactly these fields.
TWEET_FIELDS = [
    "created_at", "author_id", "conversation_id", "in_reply_to_user_id", "referenced_tweets",
    "attachments", "entities", "lang",
]
TWEET_EXPANSIONS = ["author_id", "referenced_tweets.id", "attachments.media_keys"]
USER_FIELDS = ["username", "name"]
MEDIA_FIELDS = ["url", "type", "preview_image_url", "width", "height", "alt_text"]
DM_EVENT_FIELDS = [
    "id", "text", "event_type", "created_at", "sender_id", "dm_conversation_id", "attachments",
    "referenced_tweets",
]
DM_EXPANSIONS = ["sender_id", "attachments.media_keys", "referenced_tweets.id"]

# Known on purpose and dropped: they carry no report.
IGNORED_DM_EVENT_TYPES = frozenset({"ParticipantsJoin", "ParticipantsLeave"})

_MEDIA_KINDS = {
    "photo": AttachmentKind.IMAGE,
    "video": AttachmentKind.VIDEO,
    "animated_gif": AttachmentKind.VIDEO,
}
# Epoch of X's snowflake ids, in milliseconds: an id tells when it was made.
_SNOWFLAKE_EPOCH_MS = 1288834974657


@dataclass(frozen=True, slots=True)
class PageContext:
    """What every item of one API page shares: who we are and what the page expanded."""

    account: str
    users: dict[str, dict[str, Any]]
    media: dict[str, dict[str, Any]]
    tweets: dict[str, dict[str, Any]]
    received_at: datetime

    @classmethod
    def of(cls, page: dict[str, Any], account: str, received_at: datetime) -> PageContext:
        includes = page.get("includes") if isinstance(page.get("includes"), dict) else {}

        def index(key: str, id_key: str) -> dict[str, dict[str, Any]]:
            found = includes.get(key) if isinstance(includes.get(key), list) else []
            return {str(v[id_key]): v for v in found if isinstance(v, dict) and v.get(id_key)}

        return cls(
            account,
            index("users", "id"),
            index("media", "media_key"),
            index("tweets", "id"),
            received_at,
        )

    def raw_for(self, key: str, item: dict[str, Any], media_keys: list[str]) -> dict[str, Any]:
        """The item with only the includes that belong to it, as it would read alone."""
        includes: dict[str, Any] = {}
        author = self.users.get(str(item.get("author_id") or item.get("sender_id") or ""))
        if author:
            includes["users"] = [author]
        media = [self.media[k] for k in media_keys if k in self.media]
        if media:
            includes["media"] = media
        ref_ids = [str(r["id"]) for r in _refs(item)]
        refs = [self.tweets[i] for i in ref_ids if i in self.tweets]
        if refs:
            includes["tweets"] = refs
        return {key: item, "includes": includes} if includes else {key: item}


def parse_mentions_page(
    page: dict[str, Any], account: str, received_at: datetime
) -> list[Inbound]:
    """Every tweet of one mentions page; our own tweets are left out."""
    ctx = PageContext.of(page, account, received_at)
    items: list[Inbound] = []
    for tweet in _list(page.get("data")):
        item = _guarded(_tweet, tweet, ctx, "tweet")
        if item is not None:
            items.append(item)
    return items


def parse_dm_page(page: dict[str, Any], account: str, received_at: datetime) -> list[Inbound]:
    """Every DM event of one page; what we sent ourselves and join/leave events are left out."""
    ctx = PageContext.of(page, account, received_at)
    items: list[Inbound] = []
    for event in _list(page.get("data")):
        item = _guarded(_dm_event, event, ctx, "dm")
        if item is not None:
            items.append(item)
    return items


def _guarded(
    parse: Callable[[dict[str, Any], PageContext], Inbound | None],
    item: Any,
    ctx: PageContext,
    kind: str,
) -> Inbound | None:
    if not isinstance(item, dict) or not item.get("id"):
        return _unsupported(ctx, kind, f"{kind} without an id", item)
    try:
        return parse(item, ctx)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        # Kept whole with its payload: one odd item must never fail the page.
        return _unsupported(ctx, kind, f"{kind} could not be read: {exc!r}", item)


def _tweet(tweet: dict[str, Any], ctx: PageContext) -> Inbound | None:
    author_id = str(tweet.get("author_id") or "")
    if author_id == ctx.account:
        return None  # our own reply tweets come back when they mention us
    if not author_id:
        return _unsupported(ctx, "tweet", "tweet without an author", tweet)
    tweet_id = str(tweet["id"])
    replied_to = next((str(r["id"]) for r in _refs(tweet) if r.get("type") == "replied_to"), None)
    conversation = str(tweet.get("conversation_id") or "")
    quoted = [str(r["id"]) for r in _refs(tweet) if r.get("type") == "quoted"]
    references = tuple(r for r in [conversation, *quoted] if r and r not in (tweet_id, replied_to))
    media_keys = [str(k) for k in _list((tweet.get("attachments") or {}).get("media_keys"))]
    user = ctx.users.get(author_id, {})
    return InboundMessage(
        channel=CHANNEL,
        account=ctx.account,
        external_id=tweet_id,
        sender_id=author_id,
        sent_at=_time(tweet.get("created_at"), tweet_id, ctx.received_at),
        text=str(tweet.get("text") or ""),
        display_name=user.get("name") or None,
        contact=f"@{user['username']}" if user.get("username") else None,
        attachments=_attachments(media_keys, ctx),
        reply_to=replied_to,
        references=references,
        parse_error=None if user else "author not expanded in the page",
        raw=ctx.raw_for("tweet", tweet, media_keys),
        public=True,
    )


def _dm_event(event: dict[str, Any], ctx: PageContext) -> Inbound | None:
    kind = str(event.get("event_type") or "")
    if kind in IGNORED_DM_EVENT_TYPES:
        return None
    external_id = DM_PREFIX + str(event["id"])
    if kind != "MessageCreate":
        return _unsupported(ctx, f"dm:{kind}", f"DM event type {kind!r} is not handled", event)
    sender_id = str(event.get("sender_id") or "")
    if sender_id == ctx.account:
        return None  # what we sent, seen again in the conversation
    if not sender_id:
        return _unsupported(ctx, "dm", "DM without a sender", event)
    media_keys = [str(k) for k in _list((event.get("attachments") or {}).get("media_keys"))]
    user = ctx.users.get(sender_id, {})
    conversation = str(event.get("dm_conversation_id") or "")
    return InboundMessage(
        channel=CHANNEL,
        account=ctx.account,
        external_id=external_id,
        sender_id=sender_id,
        sent_at=_time(event.get("created_at"), str(event["id"]), ctx.received_at),
        text=str(event.get("text") or ""),
        display_name=user.get("name") or None,
        contact=f"@{user['username']}" if user.get("username") else None,
        attachments=_attachments(media_keys, ctx),
        references=(DM_PREFIX + conversation,) if conversation else (),
        raw=ctx.raw_for("dm_event", event, media_keys),
    )


def _attachments(media_keys: list[str], ctx: PageContext) -> tuple[Attachment, ...]:
    found = []
    for key in media_keys:
        media = ctx.media.get(key, {})
        kind = _MEDIA_KINDS.get(str(media.get("type")), AttachmentKind.OTHER)
        if kind is AttachmentKind.IMAGE and media.get("url"):
            # The photo's URL is its reference: fetched in the background like other media.
            found.append(Attachment(kind=kind, media_ref=str(media["url"]), file_name=None))
        else:
            # Kept by its media key: the fetcher records why it is not downloaded.
            found.append(Attachment(kind=kind, media_ref=key, mime_type=None))
    return tuple(found)


def _refs(item: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in _list(item.get("referenced_tweets")) if isinstance(r, dict) and r.get("id")]


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _time(value: Any, snowflake: str, fallback: datetime) -> datetime:
    """RFC 3339 `created_at`, else the time inside the snowflake id, else when we read it."""
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
        except ValueError:
            pass
    if snowflake.isdigit():
        return snowflake_time(snowflake)
    return fallback


def snowflake_time(snowflake: str) -> datetime:
    ms = (int(snowflake) >> 22) + _SNOWFLAKE_EPOCH_MS
    return datetime.fromtimestamp(ms / 1000, UTC)


def _unsupported(ctx: PageContext, kind: str, reason: str, payload: Any) -> UnsupportedEvent:
    raw = payload if isinstance(payload, dict) else {"payload": payload}
    ident = str(raw.get("id") or "")
    if not ident:
        canonical = json.dumps(payload, sort_keys=True, default=str).encode()
        ident = hashlib.sha256(canonical).hexdigest()
    return UnsupportedEvent(
        channel=CHANNEL,
        account=ctx.account,
        external_id=f"{kind}:{ident}",
        kind=kind,
        reason=reason,
        raw=raw,
    )
