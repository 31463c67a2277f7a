"""A local Graph API server for the Instagram and Facebook channels' tests.

Follows the published API: GET /{version}/{node}/{edge} lists newest first in pages of `limit`
(or `page_size`) with `paging.cursors` and an absolute `paging.next` on this server (carrying
access_token, as Graph's do); `fields` picks what each object shows, nested `a{b,c}` included.
Nodes: GET /{comment-id}. Edges: conversations (platform=messenger|instagram), messages, posts,
media, comments (Facebook: filter=stream lists replies too, each with parent; Instagram:
replies nested), tags, tagged; POST messages (Send API, with the 24-hour window and one private
reply per comment), comments and replies. Errors use Graph's body {"error": {message, type,
code, error_subcode, fbtrace_id}}; every answer carries X-App-Usage and
X-Business-Use-Case-Usage. api_base is "http://127.0.0.1:PORT/v23.0"; attachments are served
from /cdn/.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web

from fake_meta_graph_query import (
    decode_cursor,
    encode_cursor,
    parse_fields,
    parse_time,
    select_fields,
    time_of,
)
from support.local_server import serve_locally

VERSION = "v23.0"
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S+0000"


@dataclass
class Failure:
    """An error the fake answers with, `times` times, for requests `match` accepts."""

    status: int
    code: int
    message: str
    subcode: int | None = None
    times: int = 1
    regain_minutes: int | None = None  # BUC estimated_time_to_regain_access
    match: Callable[[web.Request], bool] = lambda request: True


def throttled(regain_minutes: int = 7, **kwargs: Any) -> Failure:
    """Business Use Case throttling of a Page token (code 80001), as Graph sends it."""
    message = "(#80001) There have been too many calls to this Page account."
    return Failure(400, 80001, message, regain_minutes=regain_minutes, **kwargs)


def token_expired(**kwargs: Any) -> Failure:
    message = "Error validating access token: Session has expired on Monday, 23-Nov-26."
    return Failure(400, 190, message, subcode=463, **kwargs)


@dataclass
class Received:
    method: str
    path: str
    query: dict[str, str]
    authorization: str | None
    body: Any = None


@dataclass
class Page:
    """One Facebook Page or Instagram account the fake serves."""

    id: str
    name: str  # Page name, or Instagram username
    platform: str  # "messenger" | "instagram"
    conversations: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    participants: dict[str, str] = field(default_factory=dict)  # conversation id -> user id
    posts: list[dict[str, Any]] = field(default_factory=list)
    tagged: list[dict[str, Any]] = field(default_factory=list)


class FakeGraph:
    """Start with `await fake.start()`; `fake.api_base` is what the channels' api_base takes."""

    def __init__(self, *, clock: Callable[[], datetime], access_token: str = "test-page-token"):
        self.clock = clock
        self.access_token = access_token
        self.version = VERSION
        self.pages: dict[str, Page] = {}
        self.comments: dict[str, list[dict[str, Any]]] = {}  # post id -> every comment
        self.cdn: dict[str, tuple[bytes, str]] = {}
        self.received: list[Received] = []
        self.failures: list[Failure] = []
        self.page_size: int | None = None  # overrides `limit` to force paging
        self.repeat_pages: set[str] = set()  # edges whose first page is served twice
        self.next_base: str | None = None  # paging.next on another host (a careless platform)
        self.app_usage = {"call_count": 1, "total_cputime": 1, "total_time": 1}
        self.buc_usage = 1
        self.private_replied: set[str] = set()
        # Files a DM sent by URL, as the platform fetched them: (url, content type, bytes).
        self.fetched: list[tuple[str, str, bytes]] = []
        self.cdn_gate: asyncio.Event | None = None
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base(self) -> str:
        return f"{self.base_url}/{self.version}"

    async def start(self) -> FakeGraph:
        app = web.Application()
        app.router.add_get("/cdn/{name}", self._cdn)
        app.router.add_get("/{version:v[0-9.]+}/{node}", self._object)
        app.router.add_get("/{version:v[0-9.]+}/{node}/{edge}", self._list)
        app.router.add_post("/{version:v[0-9.]+}/{node}/{edge}", self._create)
        self._runner, self.port = await serve_locally(app)
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # --- test controls ------------------------------------------------------------------------

    def add_page(self, page_id: str, name: str, platform: str) -> Page:
        self.pages[page_id] = Page(page_id, name, platform)
        return self.pages[page_id]

    def add_dm(self, page_id: str, conversation_id: str, user_id: str, obj: dict[str, Any]) -> None:
        page = self.pages[page_id]
        page.conversations.setdefault(conversation_id, []).append(obj)
        page.participants[conversation_id] = user_id

    def add_post(self, page_id: str, post: dict[str, Any]) -> None:
        self.pages[page_id].posts.append(post)
        self.comments.setdefault(str(post["id"]), [])

    def add_comment(self, post_id: str, comment: dict[str, Any]) -> None:
        self.comments[post_id].append(comment)

    def edit_comment(self, comment_id: str, text: str) -> None:
        comment = self._comment(comment_id)
        comment["message" if "message" in comment else "text"] = text

    def delete_comment(self, comment_id: str) -> None:
        for comments in self.comments.values():
            comments[:] = [c for c in comments if c["id"] != comment_id]

    def add_cdn(self, name: str, data: bytes, mime_type: str) -> str:
        self.cdn[name] = (data, mime_type)
        return f"{self.base_url}/cdn/{name}"

    def fail(self, failure: Failure) -> None:
        self.failures.append(failure)

    def count(self, method: str, edge: str) -> int:
        return sum(1 for r in self.received if r.method == method and r.path.endswith(f"/{edge}"))

    def posted(self, edge: str) -> list[Received]:
        return [r for r in self.received if r.method == "POST" and r.path.endswith(f"/{edge}")]

    def time(self, when: datetime) -> str:
        return when.astimezone(UTC).strftime(TIME_FORMAT)

    # --- listing ------------------------------------------------------------------------------

    async def _list(self, request: web.Request) -> web.Response:
        self._record(request, None)
        refused = self._refusal(request)
        if refused is not None:
            return refused
        node, edge = request.match_info["node"], request.match_info["edge"]
        items = self._edge_items(node, edge, request.query)
        if items is None:
            return self._error(400, 100, f"(#100) Tried accessing nonexisting field ({edge})")
        fields = parse_fields(request.query.get("fields", "id"))
        return self._page(request, [select_fields(item, fields) for item in items])

    async def _object(self, request: web.Request) -> web.Response:
        """GET /{comment-id}: one comment (the only node the channels read by id)."""
        self._record(request, None)
        refused = self._refusal(request)
        if refused is not None:
            return refused
        found = self._comment(request.match_info["node"])
        if found is None:
            message = "(#100) Object does not exist, cannot be loaded due to missing permission"
            return self._error(400, 100, message, 33)
        fields = parse_fields(request.query.get("fields", "id"))
        return web.json_response(select_fields(found, fields), headers=self._usage_headers("0"))

    def _edge_items(self, node: str, edge: str, query: Any) -> list[dict[str, Any]] | None:
        page = self.pages.get(node)
        if page is not None and edge == "conversations":
            if query.get("platform", "messenger") != page.platform:
                return []
            found = [
                {"id": cid, "updated_time": max(m["created_time"] for m in messages)}
                for cid, messages in page.conversations.items()
            ]
            return sorted(found, key=lambda c: c["updated_time"], reverse=True)
        if page is not None and edge in ("posts", "feed", "media"):
            return sorted(page.posts, key=time_of, reverse=True)
        if page is not None and edge in ("tagged", "tags"):
            return sorted(page.tagged, key=time_of, reverse=True)
        if edge == "messages":
            for owner in self.pages.values():
                if node in owner.conversations:
                    return sorted(owner.conversations[node], key=time_of, reverse=True)
        if edge == "comments" and node in self.comments:
            return self._comments_of(node, query)
        return None

    def _comments_of(self, post_id: str, query: Any) -> list[dict[str, Any]]:
        comments = self.comments[post_id]
        if comments and "timestamp" in comments[0]:  # Instagram: top level, replies nested
            top = [c for c in comments if not c.get("parent_id")]
            nested = []
            for comment in sorted(top, key=time_of, reverse=True):
                replies = sorted(
                    (c for c in comments if c.get("parent_id") == comment["id"]), key=time_of
                )
                nested.append({**comment, "replies": {"data": replies}})
            return nested
        if query.get("filter") != "stream":
            comments = [c for c in comments if not c.get("parent")]
        reverse = query.get("order") == "reverse_chronological"
        return sorted(comments, key=time_of, reverse=reverse)

    def _page(self, request: web.Request, items: list[dict[str, Any]]) -> web.Response:
        size = self.page_size or int(request.query.get("limit", "25"))
        token = request.query.get("after")
        offset, repeated = decode_cursor(token) if token else (0, False)
        chunk = items[offset : offset + size]
        edge = request.match_info["edge"]
        body: dict[str, Any] = {"data": chunk}
        if chunk:
            after_offset, again = offset + len(chunk), False
            if edge in self.repeat_pages and offset == 0 and not repeated:
                after_offset, again = 0, True  # Graph serves the first page again
            after = encode_cursor(after_offset, again)
            body["paging"] = {"cursors": {"before": encode_cursor(offset, False), "after": after}}
            if after_offset < len(items):
                query = {k: v for k, v in request.query.items() if k != "after"}
                query |= {"access_token": self.access_token, "after": after}
                base = self.next_base or self.base_url
                body["paging"]["next"] = f"{base}{request.path}?{urlencode(query)}"
        return web.json_response(body, headers=self._usage_headers(request.match_info["node"]))

    # --- creating -----------------------------------------------------------------------------

    async def _create(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            body = dict(await request.post())
        self._record(request, body)
        refused = self._refusal(request)
        if refused is not None:
            return refused
        node, edge = request.match_info["node"], request.match_info["edge"]
        if edge == "messages" and node in self.pages:
            attachment = (body.get("message") or {}).get("attachment")
            if attachment is not None:
                failed = await self._fetch_attachment(attachment)
                if failed is not None:
                    return failed
            return self._send_message(self.pages[node], body)
        if edge in ("comments", "replies"):
            return self._reply_comment(node, body)
        return self._error(400, 100, f"(#100) Unsupported post request ({edge})")

    async def _fetch_attachment(self, attachment: Any) -> web.Response | None:
        """The Send API's attachment by URL: Meta downloads the file from that address."""
        payload = attachment.get("payload") if isinstance(attachment, dict) else None
        url = payload.get("url") if isinstance(payload, dict) else None
        if attachment.get("type") not in ("image", "audio", "video", "file") or not url:
            return self._error(400, 100, "(#100) Invalid attachment")
        async with aiohttp.ClientSession() as http, http.get(url) as response:
            if response.status != 200:
                return self._error(
                    400, 100, "(#100) Failed to fetch the file from the url", 2018008
                )
            self.fetched.append((url, response.content_type, await response.read()))
        return None

    def _send_message(self, page: Page, body: dict[str, Any]) -> web.Response:
        recipient = body.get("recipient") or {}
        content = body.get("message") or {}
        text = content.get("text") or ("[attachment]" if content.get("attachment") else None)
        if not text:
            return self._error(400, 100, "(#100) The parameter message is required")
        if recipient.get("comment_id"):
            comment_id = str(recipient["comment_id"])
            comment = self._comment(comment_id)
            if comment is None:
                return self._error(400, 100, "(#100) Invalid comment_id")
            if comment_id in self.private_replied:
                return self._error(400, 10, "(#10) Only one private reply per comment", 2018336)
            self.private_replied.add(comment_id)
            user = str((comment.get("from") or {}).get("id"))
        else:
            user = str(recipient.get("id"))
            refused = self._outside_window(page, user, body)
            if refused is not None:
                return refused
        mid = f"m_fake{next(self._ids)}"
        conversation = next((c for c, u in page.participants.items() if u == user), f"t_{user}")
        sent = {
            "id": mid,
            "created_time": self.time(self.clock()),
            "from": {"id": page.id, "name": page.name},
            "to": {"data": [{"id": user}]},
            "message": text,
        }
        self.add_dm(page.id, conversation, user, sent)
        return web.json_response({"recipient_id": user, "message_id": mid})

    def _outside_window(self, page: Page, user: str, body: dict[str, Any]) -> web.Response | None:
        theirs = [
            m["created_time"]
            for c, u in page.participants.items()
            if u == user
            for m in page.conversations[c]
            if (m.get("from") or {}).get("id") == user
        ]
        if not theirs:
            return self._error(400, 100, "(#100) No matching user found", 2018001)
        age = self.clock() - parse_time(max(theirs))
        allowed = timedelta(hours=24)
        if body.get("messaging_type") == "MESSAGE_TAG" and body.get("tag") == "HUMAN_AGENT":
            allowed = timedelta(days=7)
        if age > allowed:
            message = "(#10) This message is sent outside of allowed window."
            return self._error(400, 10, message, 2018278)
        return None

    def _reply_comment(self, comment_id: str, body: dict[str, Any]) -> web.Response:
        parent = self._comment(comment_id)
        message = body.get("message")
        if parent is None or not message:
            return self._error(400, 100, "(#100) Invalid parameter")
        post_id = next(p for p, comments in self.comments.items() if parent in comments)
        owner = next(p for p in self.pages.values() if any(x["id"] == post_id for x in p.posts))
        new_id = f"{post_id.split('_')[-1]}_{900000 + next(self._ids)}"
        now = self.time(self.clock())
        if "timestamp" in parent:
            top = parent.get("parent_id") or parent["id"]
            reply = {"id": new_id, "text": message, "timestamp": now, "parent_id": top}
            reply |= {"username": owner.name, "from": {"id": owner.id, "username": owner.name}}
        else:
            top = (parent.get("parent") or {}).get("id") or parent["id"]
            reply = {"id": new_id, "message": message, "created_time": now}
            reply |= {"parent": {"id": top}, "from": {"id": owner.id, "name": owner.name}}
        self.comments[post_id].append(reply)
        return web.json_response({"id": new_id})

    # --- plumbing -----------------------------------------------------------------------------

    async def _cdn(self, request: web.Request) -> web.Response:
        self._record(request, None)
        if self.cdn_gate is not None:  # downloads hang until the test opens the gate
            await self.cdn_gate.wait()
        found = self.cdn.get(request.match_info["name"])
        if found is None:
            return web.Response(status=404, text="not found")
        return web.Response(body=found[0], content_type=found[1])

    def _record(self, request: web.Request, body: Any) -> None:
        auth = request.headers.get("Authorization")
        self.received.append(
            Received(request.method, request.path, dict(request.query), auth, body)
        )

    def _refusal(self, request: web.Request) -> web.Response | None:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ")
        given = given or request.query.get("access_token", "")
        for failure in list(self.failures):
            if failure.match(request):
                failure.times -= 1
                if failure.times <= 0:
                    self.failures.remove(failure)
                usage = 100 if failure.regain_minutes is not None else None
                return self._error(
                    failure.status,
                    failure.code,
                    failure.message,
                    failure.subcode,
                    regain=failure.regain_minutes,
                    usage=usage,
                )
        if given != self.access_token:
            return self._error(400, 190, "Invalid OAuth access token - Cannot parse access token")
        return None

    def _error(
        self,
        status: int,
        code: int,
        message: str,
        subcode: int | None = None,
        *,
        regain: int | None = None,
        usage: int | None = None,
    ) -> web.Response:
        error: dict[str, Any] = {
            "message": message,
            "type": "OAuthException",
            "code": code,
            "fbtrace_id": "A" + secrets.token_urlsafe(15),
        }
        if subcode is not None:
            error["error_subcode"] = subcode
        headers = self._usage_headers(next(iter(self.pages), "0"), regain=regain, usage=usage)
        return web.json_response({"error": error}, status=status, headers=headers)

    def _usage_headers(
        self, node: str, *, regain: int | None = None, usage: int | None = None
    ) -> dict[str, str]:
        percent = usage if usage is not None else self.buc_usage
        entry = {
            "type": "pages",
            "call_count": percent,
            "total_cputime": 1,
            "total_time": 1,
            "estimated_time_to_regain_access": regain or 0,
        }
        return {
            "X-App-Usage": json.dumps(self.app_usage),
            "X-Business-Use-Case-Usage": json.dumps({node: [entry]}),
        }

    def _comment(self, comment_id: str) -> dict[str, Any] | None:
        for comments in self.comments.values():
            for comment in comments:
                if comment["id"] == comment_id:
                    return comment
        return None
