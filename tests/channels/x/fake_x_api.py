"""A local X API v2 server for tests, answering with the bodies and headers X really sent.

Seeded from tweepy's recorded exchanges (`../shared/corpus/twitter/*.yaml`, read at run time):
the mentions of user 783214 with their ids and texts, the DM events, and the recorded
rate-limit windows per endpoint (x-rate-limit-limit). It serves the published routes:
GET /2/users/:id/mentions (since_id, max_results 5-100, pagination_token, tweet.fields,
expansions, user.fields, media.fields; newest first; no `data` key when empty), GET /2/dm_events
(OAuth 1.0a user context only), POST /2/tweets and POST /2/dm_conversations/with/:id/messages
(201). Errors are problem JSON; every answer carries x-rate-limit-limit/-remaining/-reset, and
an exhausted window answers 429 until its reset (epoch seconds from the injected clock).
Photos are served at /media/<name> on this server, the URL given in `includes.media[].url`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from fake_x_corpus import Recorded, load_corpus
from support.local_server import serve_locally

__all__ = ["FakeXApi", "Recorded", "load_corpus", "problem", "snowflake_time"]

ACCESS_WINDOW = 900  # seconds: X's 15-minute rate-limit window
_SNOWFLAKE_EPOCH_MS = 1288834974657
CORE_TWEET_FIELDS = ("id", "text", "edit_history_tweet_ids")


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    auth: str  # "oauth1", "bearer" or ""
    body: Any = None


@dataclass
class Bucket:
    limit: int
    remaining: int
    reset: int = 0


def snowflake_time(snowflake: str) -> str:
    ms = (int(snowflake) >> 22) + _SNOWFLAKE_EPOCH_MS
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def problem(status: int, title: str, detail: str, kind: str = "about:blank") -> dict[str, Any]:
    return {"title": title, "detail": detail, "type": kind, "status": status}


class FakeXApi:
    """Start with `await fake.start()`; tests add tweets, DMs and photos, then read `requests`."""

    def __init__(self, recorded: Recorded, clock: Callable[[], datetime], me: str = "self") -> None:
        self.recorded = recorded
        self.clock = clock
        self.me = me  # the id of the user whose OAuth 1.0a keys sign the writes
        self.tweets: dict[str, dict[str, Any]] = {}  # every known tweet, full fields
        self.users: dict[str, dict[str, Any]] = {}
        self.media: dict[str, dict[str, Any]] = {}
        self.photos: dict[str, bytes] = {}
        self.mentions: dict[str, list[str]] = {}  # user id -> ids of tweets mentioning them
        self.dm_events: list[dict[str, Any]] = []  # newest first, as X pages them
        self.requests: list[Request] = []
        self.buckets: dict[str, Bucket] = {}
        self.blocked_dm_recipients: set[str] = set()
        self._last_id = 0
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> FakeXApi:
        app = web.Application()
        app.router.add_get("/2/users/{id}/mentions", self._get_mentions)
        app.router.add_get("/2/dm_events", self._get_dm_events)
        app.router.add_post("/2/tweets", self._post_tweet)
        app.router.add_post("/2/dm_conversations/with/{id}/messages", self._post_dm)
        app.router.add_get("/media/{name}", self._get_photo)
        self._runner, self.port = await serve_locally(app)
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # --- test controls ------------------------------------------------------------------------

    def next_id(self) -> str:
        """A snowflake made now (by the fake's clock): X's ids carry their creation time."""
        ms = int(self.clock().timestamp() * 1000) - _SNOWFLAKE_EPOCH_MS
        self._last_id = max(ms << 22, self._last_id + 1)
        return str(self._last_id)

    def add_user(self, user_id: str, username: str, name: str) -> None:
        self.users[user_id] = {"id": user_id, "name": name, "username": username}

    def seed_corpus_mentions(self, authors: list[str]) -> list[dict[str, Any]]:
        """The recorded mentions, each written by `authors[i % len]`, as roots of conversations.

        The recording asked for no fields; what it lacks (author, conversation, time) is filled
        the way X fills it: a root tweet is its own conversation, the time is in its id.
        """
        user = self.recorded.mentions_user
        for i, recorded in enumerate(reversed(self.recorded.mentions)):
            tweet = dict(recorded)
            tweet.update(
                author_id=authors[i % len(authors)],
                conversation_id=tweet["id"],
                created_at=snowflake_time(tweet["id"]),
            )
            self._store_tweet(tweet, mentioned=user)
        return [self.tweets[t["id"]] for t in self.recorded.mentions]

    def mention(
        self,
        mentioned: str,
        author_id: str,
        text: str,
        *,
        reply_to: str | None = None,
        photo: bytes | None = None,
        video: bool = False,
    ) -> dict[str, Any]:
        tweet_id = self.next_id()
        tweet: dict[str, Any] = {
            "id": tweet_id,
            "text": text,
            "edit_history_tweet_ids": [tweet_id],
            "author_id": author_id,
            "created_at": snowflake_time(tweet_id),
            "conversation_id": tweet_id,
            "lang": "in",
        }
        if reply_to is not None:
            parent = self.tweets[reply_to]
            tweet["conversation_id"] = parent["conversation_id"]
            tweet["in_reply_to_user_id"] = parent["author_id"]
            tweet["referenced_tweets"] = [{"type": "replied_to", "id": reply_to}]
        if photo is not None:
            key = f"3_{tweet_id}"
            self.photos[f"{key}.jpg"] = photo
            self.media[key] = {
                "media_key": key,
                "type": "photo",
                "url": f"{self.api_base}/media/{key}.jpg",
                "width": 1200,
                "height": 900,
            }
            tweet["attachments"] = {"media_keys": [key]}
        if video:
            key = f"7_{tweet_id}"
            self.media[key] = {
                "media_key": key,
                "type": "video",
                "width": 720,
                "height": 1280,
                "preview_image_url": f"{self.api_base}/media/{key}_thumb.jpg",
            }
            tweet.setdefault("attachments", {"media_keys": []})["media_keys"].append(key)
        self._store_tweet(tweet, mentioned=mentioned)
        return tweet

    def seed_corpus_dms(self, account: str, sender: str) -> list[dict[str, Any]]:
        """The recorded DM events, sent by `sender` to `account` in their 1:1 conversation."""
        events = []
        for recorded in self.recorded.dm_events:
            event = dict(recorded)
            event.update(
                sender_id=sender,
                dm_conversation_id=_conversation(account, sender),
                created_at=snowflake_time(event["id"]),
            )
            events.append(event)
        self.dm_events = sorted([*self.dm_events, *events], key=lambda e: -int(e["id"]))
        return events

    def dm(self, account: str, sender: str, text: str) -> dict[str, Any]:
        event_id = self.next_id()
        event = {
            "id": event_id,
            "event_type": "MessageCreate",
            "text": text,
            "sender_id": sender,
            "dm_conversation_id": _conversation(account, sender),
            "created_at": snowflake_time(event_id),
        }
        self.dm_events.insert(0, event)
        return event

    def exhaust(self, route: str, reset_in: int = ACCESS_WINDOW) -> None:
        """The window of `route` is used up: 429 until `reset_in` seconds from the clock."""
        bucket = self.window(route)
        bucket.remaining, bucket.reset = 0, int(self.clock().timestamp()) + reset_in

    def of(self, method: str, path_prefix: str) -> list[Request]:
        return [r for r in self.requests if r.method == method and r.path.startswith(path_prefix)]

    # --- routes -------------------------------------------------------------------------------

    async def _get_mentions(self, request: web.Request) -> web.Response:
        refused = await self._admit(request, "mentions", user_only=False)
        if refused is not None:
            return refused
        query = request.query
        size = int(query.get("max_results", "10"))
        if not 5 <= size <= 100:
            return self._problem(
                "mentions",
                400,
                "Invalid Request",
                f"The `max_results` query parameter value [{size}] is not between 5 and 100",
            )
        ids = sorted(self.mentions.get(request.match_info["id"], []), key=lambda i: -int(i))
        if "since_id" in query:
            ids = [i for i in ids if int(i) > int(query["since_id"])]
        if "start_time" in query:
            start = datetime.fromisoformat(query["start_time"].replace("Z", "+00:00"))
            ids = [i for i in ids if _created(self.tweets[i]) >= start]
        page, token = _page(ids, size, query.get("pagination_token"))
        data = [self._tweet_view(self.tweets[i], query) for i in page]
        return self._answer("mentions", self._listing(data, token, query, page))

    async def _get_dm_events(self, request: web.Request) -> web.Response:
        refused = await self._admit(request, "dm_lookup", user_only=True)
        if refused is not None:
            return refused
        query = request.query
        size = int(query.get("max_results", "100"))
        fields = set(_csv(query.get("dm_event.fields"))) | {"id", "text", "event_type"}
        ids = [e["id"] for e in self.dm_events]
        page, token = _page(ids, size, query.get("pagination_token"))
        events = {e["id"]: e for e in self.dm_events}
        data = [{k: v for k, v in events[i].items() if k in fields} for i in page]
        body: dict[str, Any] = {"meta": {"result_count": len(data)}}
        if data:
            body["data"] = data
            includes = self._includes(data, query, author_key="sender_id")
            if includes:
                body["includes"] = includes
        if token:
            body["meta"]["next_token"] = token
        return self._answer("dm_lookup", body)

    async def _post_tweet(self, request: web.Request) -> web.Response:
        refused = await self._admit(request, "tweet_create", user_only=True)
        if refused is not None:
            return refused
        body = self.requests[-1].body or {}
        text = str(body.get("text") or "")
        reply_to = (body.get("reply") or {}).get("in_reply_to_tweet_id")
        if reply_to is not None and reply_to not in self.tweets:
            return self._problem(
                "tweet_create",
                403,
                "Forbidden",
                "You attempted to reply to a Tweet that is deleted or not visible to you.",
            )
        ours = [t["text"] for t in self.tweets.values() if t.get("author_id") == self.me]
        if text in ours:
            return self._problem(
                "tweet_create",
                403,
                "Forbidden",
                "You are not allowed to create a Tweet with duplicate content.",
            )
        tweet_id = self.next_id()
        tweet = {"id": tweet_id, "text": text, "author_id": self.me, "conversation_id": tweet_id}
        if reply_to is not None:
            tweet["conversation_id"] = self.tweets[reply_to]["conversation_id"]
            tweet["referenced_tweets"] = [{"type": "replied_to", "id": reply_to}]
        self.tweets[tweet_id] = tweet
        # The recorded answer's fields (id, text), plus the edit history X added in late 2022.
        values = {"id": tweet_id, "text": text}
        answer = {k: values[k] for k in self.recorded.created_tweet or values}
        answer["edit_history_tweet_ids"] = [tweet_id]
        return self._answer("tweet_create", {"data": answer}, status=201)

    async def _post_dm(self, request: web.Request) -> web.Response:
        refused = await self._admit(request, "dm_send", user_only=True)
        if refused is not None:
            return refused
        recipient = request.match_info["id"]
        if recipient in self.blocked_dm_recipients:
            return self._problem(
                "dm_send",
                403,
                "Forbidden",
                "You are not permitted to send Direct Messages to this user.",
            )
        event_id = self.next_id()
        values = {"dm_conversation_id": _conversation(self.me, recipient), "dm_event_id": event_id}
        data = {k: values[k] for k in self.recorded.created_dm or values}  # as recorded
        return self._answer("dm_send", {"data": data}, status=201)

    async def _get_photo(self, request: web.Request) -> web.Response:
        data = self.photos.get(request.match_info["name"])
        if data is None:
            return web.Response(status=404)
        return web.Response(body=data, content_type="image/jpeg")

    # --- helpers ------------------------------------------------------------------------------

    def _store_tweet(self, tweet: dict[str, Any], mentioned: str) -> None:
        self.tweets[tweet["id"]] = tweet
        self.mentions.setdefault(mentioned, []).append(tweet["id"])

    def window(self, route: str) -> Bucket:
        """The rate-limit window of one route (tests may change its limit)."""
        if route not in self.buckets:
            limit = self.recorded.limits.get(route, 300)
            self.buckets[route] = Bucket(limit, limit)
        return self.buckets[route]

    async def _admit(
        self, request: web.Request, route: str, *, user_only: bool
    ) -> web.Response | None:
        """Record the request; answer 401/403/429 the way X does, or None to go on."""
        header = request.headers.get("Authorization", "")
        auth = "oauth1" if header.startswith("OAuth ") else "bearer" if header else ""
        body = None
        if request.can_read_body and request.content_type == "application/json":
            body = await request.json()
        self.requests.append(Request(request.method, request.path, dict(request.query), auth, body))
        if not auth:
            return self._problem(route, 401, "Unauthorized", "Unauthorized")
        if user_only and auth != "oauth1":
            return self._problem(
                route,
                403,
                "Unsupported Authentication",
                "Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint. "
                "Supported authentication types are [OAuth 1.0a User Context, OAuth 2.0 User "
                "Context].",
                "https://api.twitter.com/2/problems/unsupported-authentication",
            )
        bucket = self.window(route)
        now = int(self.clock().timestamp())
        if bucket.reset <= now:
            bucket.remaining, bucket.reset = bucket.limit, now + ACCESS_WINDOW
        if bucket.remaining <= 0:
            return self._problem(route, 429, "Too Many Requests", "Too Many Requests")
        bucket.remaining -= 1
        return None

    def _headers(self, route: str) -> dict[str, str]:
        bucket = self.window(route)
        return {
            "x-rate-limit-limit": str(bucket.limit),
            "x-rate-limit-remaining": str(bucket.remaining),
            "x-rate-limit-reset": str(bucket.reset),
        }

    def _answer(self, route: str, body: Any, status: int = 200) -> web.Response:
        return web.Response(
            status=status,
            text=json.dumps(body),
            headers=self._headers(route),
            content_type="application/json",
            charset="utf-8",
        )

    def _problem(
        self, route: str, status: int, title: str, detail: str, kind: str = "about:blank"
    ) -> web.Response:
        return self._answer(route, problem(status, title, detail, kind), status)

    def _tweet_view(self, tweet: dict[str, Any], query: Any) -> dict[str, Any]:
        fields = set(_csv(query.get("tweet.fields"))) | set(CORE_TWEET_FIELDS)
        view = {k: v for k, v in tweet.items() if k in fields}
        view.setdefault("edit_history_tweet_ids", [tweet["id"]])
        return view

    def _listing(
        self, data: list[dict[str, Any]], token: str | None, query: Any, ids: list[str]
    ) -> dict[str, Any]:
        if not data:
            return {"meta": {"result_count": 0}}
        meta: dict[str, Any] = {
            "result_count": len(data),
            "newest_id": ids[0],
            "oldest_id": ids[-1],
        }
        if token:
            meta["next_token"] = token
        body: dict[str, Any] = {"data": data}
        full = [self.tweets[i] for i in ids]
        includes = self._includes(full, query, author_key="author_id")
        if includes:
            body["includes"] = includes
        body["meta"] = meta
        return body

    def _includes(self, items: list[dict[str, Any]], query: Any, author_key: str) -> dict:
        expansions = set(_csv(query.get("expansions")))
        user_fields = set(_csv(query.get("user.fields"))) | {"id", "name", "username"}
        media_fields = set(_csv(query.get("media.fields"))) | {"media_key", "type"}
        includes: dict[str, list[Any]] = {}
        if author_key in expansions:
            ids = dict.fromkeys(str(i[author_key]) for i in items if i.get(author_key))
            users = [self.users[u] for u in ids if u in self.users]
            if users:
                includes["users"] = [
                    {k: v for k, v in u.items() if k in user_fields} for u in users
                ]
        if "attachments.media_keys" in expansions:
            keys = [k for i in items for k in (i.get("attachments") or {}).get("media_keys", [])]
            media = [self.media[k] for k in keys if k in self.media]
            if media:
                includes["media"] = [
                    {k: v for k, v in m.items() if k in media_fields} for m in media
                ]
        if "referenced_tweets.id" in expansions:
            refs = [r["id"] for i in items for r in i.get("referenced_tweets", [])]
            tweets = [self._tweet_view(self.tweets[r], query) for r in refs if r in self.tweets]
            if tweets:
                includes["tweets"] = tweets
        return includes


def _created(tweet: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(str(tweet["created_at"]).replace("Z", "+00:00"))


def _conversation(a: str, b: str) -> str:
    low, high = sorted([a, b], key=lambda v: (len(v), v))
    return f"{low}-{high}"


def _csv(value: str | None) -> list[str]:
    return [v for v in (value or "").split(",") if v]


def _page(ids: list[str], size: int, token: str | None) -> tuple[list[str], str | None]:
    """X's opaque pagination tokens; here the offset, written so nobody mistakes it for an id."""
    start = int(token.removeprefix("pg")) if token else 0
    page = ids[start : start + size]
    return page, (f"pg{start + size}" if start + size < len(ids) else None)
