"""tweepy's recorded X API exchanges (VCR cassettes in ../shared/corpus/twitter), read as data."""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


@dataclass
class Recorded:
    """What the corpus holds: mentions page bodies, DM events, and each endpoint's window."""

    mentions: list[dict[str, Any]] = field(default_factory=list)
    mentions_user: str = ""
    dm_events: list[dict[str, Any]] = field(default_factory=list)
    limits: dict[str, int] = field(default_factory=dict)
    created_tweet: dict[str, Any] = field(default_factory=dict)
    created_dm: dict[str, Any] = field(default_factory=dict)


def load_corpus(folder: Path) -> Recorded:
    """Read the VCR cassettes (request, response headers, gzip body) into plain data."""
    recorded = Recorded()
    for path in sorted(folder.glob("test_*.yaml")):
        for exchange in yaml.safe_load(path.read_text())["interactions"]:
            request, response = exchange["request"], exchange["response"]
            body = _body(response["body"].get("string"))
            route = _route(request["method"], request["uri"])
            headers = {k.lower(): v[0] for k, v in response["headers"].items()}
            if "x-rate-limit-limit" in headers and route:
                recorded.limits[route] = int(headers["x-rate-limit-limit"])
            if route == "mentions":
                known = {t["id"] for t in recorded.mentions}
                recorded.mentions += [t for t in body.get("data", []) if t["id"] not in known]
                recorded.mentions.sort(key=lambda t: -int(t["id"]))
                recorded.mentions_user = request["uri"].split("/users/")[1].split("/")[0]
            elif route == "dm_lookup" and body.get("data") and not recorded.dm_events:
                recorded.dm_events = body["data"]
            elif route == "tweet_create":
                recorded.created_tweet = body["data"]
            elif route == "dm_send" and not recorded.created_dm:
                recorded.created_dm = body["data"]
    return recorded


def _body(raw: Any) -> dict[str, Any]:
    if raw is None:
        return {}
    if isinstance(raw, bytes):
        try:
            raw = gzip.decompress(raw)
        except OSError:
            pass
        raw = raw.decode()
    return json.loads(raw) if raw else {}


def _route(method: str, uri: str) -> str | None:
    path = uri.split("api.twitter.com", 1)[-1].split("?")[0]
    if method == "GET" and path.endswith("/mentions"):
        return "mentions"
    if method == "GET" and path.endswith("dm_events"):
        return "dm_lookup"
    if method == "POST" and path == "/2/tweets":
        return "tweet_create"
    if method == "POST" and path.endswith("/messages"):
        return "dm_send"
    return None
