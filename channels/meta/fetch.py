"""Reading DMs, comments and mentions from Graph listings, newest first, back to a floor time."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from datetime import datetime

from channels.meta.graph import GraphClient, graph_time
from channels.meta.parse import Dialect, Item, Post, read_comment, read_dm, read_mention, read_post


@dataclass(frozen=True, slots=True)
class Platform:
    """Where one platform keeps each source on Graph, and which fields to ask for."""

    dialect: Dialect
    conversations_platform: str  # "messenger" | "instagram"
    message_fields: str
    posts_edge: str  # e.g. "{page_id}/posts" or "{ig_id}/media", formatted
    post_fields: str
    comment_params: dict[str, str]
    flat_comments: bool  # replies come in the same time-ordered listing (Facebook's stream)
    mentions_edge: str
    mention_fields: str
    reply_edge: str  # POST /{comment-id}/<edge> for a public reply
    top_level_replies: bool = False  # a reply to a reply must go to the top-level comment


class GraphReader:
    """The listings of one account; each method returns what lies at or after `floor` (and a
    little more: whole pages are read, the cursor decides what is new)."""

    def __init__(
        self,
        client: GraphClient,
        platform: Platform,
        *,
        page_id: str,
        max_pages: int,
        recent_posts: int,
        clock: Callable[[], datetime],
    ) -> None:
        self.client = client
        self.platform = platform
        self.page_id = page_id
        self.max_pages = max_pages
        self.recent_posts = recent_posts
        self.clock = clock

    def _dated(self, item: Item | None) -> Item | None:
        """Graph always dates its objects; one that is not is dated when read, and says so."""
        if item is None or item.at is not None:
            return item
        problem = "; ".join(p for p in (item.problem, "no time given; dated when read") if p)
        return replace(item, at=self.clock(), problem=problem)

    async def messages(self, floor: datetime) -> list[Item]:
        items: list[Item] = []
        params = {
            "platform": self.platform.conversations_platform,
            "fields": "id,updated_time",
            "limit": "25",
        }
        async with self._pages(f"{self.page_id}/conversations", params) as pages:
            async for page in pages:
                for conversation in page:
                    updated = graph_time(conversation.get("updated_time"))
                    if conversation.get("id") and (updated is None or updated >= floor):
                        items += await self._conversation(str(conversation["id"]), floor)
                if _all_older(page, "updated_time", floor):
                    break
        return items

    async def _conversation(self, conversation_id: str, floor: datetime) -> list[Item]:
        found: list[Item] = []
        params = {"fields": self.platform.message_fields, "limit": "25"}
        async with self._pages(f"{conversation_id}/messages", params) as pages:
            async for page in pages:
                for obj in page:
                    item = self._dated(read_dm(obj, conversation_id, self.platform.dialect))
                    if item is not None:
                        found.append(item)
                if _all_older(page, "created_time", floor):
                    break
        return found

    async def comments(self, floor: datetime, complete: set[str]) -> list[Item]:
        dialect = self.platform.dialect
        posts: list[Post] = []
        params = {"fields": self.platform.post_fields, "limit": str(self.recent_posts)}
        async with self._pages(self.platform.posts_edge, params) as listing:
            async for page in listing:
                posts = [read_post(obj, dialect) for obj in page if obj.get("id")]
                break  # the newest `recent_posts` only
        items: list[Item] = []
        for post in posts:
            if await self._post_comments(post, floor, items):
                complete.add(post.id)
        return items

    async def _post_comments(self, post: Post, floor: datetime, items: list[Item]) -> bool:
        """Add the post's comments to `items`; True when read back to `floor` or the end."""
        dialect = self.platform.dialect
        read = 0
        async with self._pages(f"{post.id}/comments", self.platform.comment_params) as pages:
            async for page in pages:
                read += 1
                for obj in _with_replies(page):
                    item = self._dated(read_comment(obj, post, dialect))
                    if item is not None:
                        items.append(item)
                if self.platform.flat_comments and _all_older(page, dialect.time_key, floor):
                    return True
        return read < self.max_pages

    async def mentions(self, floor: datetime) -> list[Item]:
        dialect = self.platform.dialect
        items: list[Item] = []
        params = {"fields": self.platform.mention_fields, "limit": "25"}
        async with self._pages(self.platform.mentions_edge, params) as pages:
            async for page in pages:
                found = (self._dated(read_mention(obj, dialect)) for obj in page)
                items += [item for item in found if item is not None]
                if _all_older(page, dialect.time_key, floor):
                    break
        return items

    def _pages(
        self, path: str, params: dict[str, str]
    ) -> contextlib.aclosing[AsyncIterator[list[dict]]]:
        """A listing to read with `async with ... as pages`, closed even when left early."""
        return contextlib.aclosing(self.client.pages(path, params, max_pages=self.max_pages))


def _all_older(page: list[dict], key: str, floor: datetime) -> bool:
    """True for a page with nothing at or after `floor` (Graph lists newest first)."""
    times = [graph_time(obj.get(key)) for obj in page]
    return all(t is not None and t < floor for t in times)


def _with_replies(page: list[dict]) -> list[dict]:
    """Instagram nests replies under their comment; they are read like comments."""
    flat: list[dict] = []
    for obj in page:
        flat.append(obj)
        replies = obj.get("replies")
        data = replies.get("data") if isinstance(replies, dict) else None
        for reply in data if isinstance(data, list) else []:
            if isinstance(reply, dict):
                flat.append({"parent_id": obj.get("id"), **reply})
    return flat
