"""Fills the fake Graph server from the recorded corpus (../shared/corpus) and our fixtures.

Recorded times are years old: each seed keeps their order and spacing-by-rank, re-dated to end
an hour before the test clock, so that a first run with a 2-day lookback reads them all.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from fake_meta_graph import FakeGraph

FIXTURES = Path(__file__).resolve().parent / "fixtures"
FB_PAGE, FB_PAGE_NAME = "2121008874780932", "MyLife"  # the Page of the corpus' Messenger data
IG_PAGE, IG_ACCOUNT, IG_USERNAME = "105577558833221", "17841406338772941", "laporbup.pati"
STEP = timedelta(minutes=20)


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def redate(fake: FakeGraph, objects: list[dict[str, Any]], key: str, end: datetime) -> None:
    """Re-date `objects` in their recorded order: the newest at `end`, one STEP apart."""
    ordered = sorted(objects, key=lambda o: str(o.get(key, "")))
    for rank, obj in enumerate(ordered):
        obj[key] = fake.time(end - STEP * (len(ordered) - 1 - rank))


def cdn_urls(fake: FakeGraph, obj: Any) -> Any:
    """Point every attachment URL at the fake's /cdn/, serving a few bytes for each."""
    if isinstance(obj, dict):
        return {k: cdn_urls(fake, v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [cdn_urls(fake, v) for v in obj]
    if isinstance(obj, str) and (
        obj.startswith("cdn:") or "fbcdn.net" in obj or "cdninstagram.com" in obj
    ):
        name = obj.removeprefix("cdn:") if obj.startswith("cdn:") else _cdn_name(obj)
        if name not in fake.cdn:
            mime = (
                "video/mp4"
                if name.endswith(".mp4")
                else "application/pdf"
                if name.endswith(".pdf")
                else "image/jpeg"
            )
            fake.add_cdn(name, f"bytes of {name}".encode(), mime)
        return f"{fake.base_url}/cdn/{name}"
    return obj


def _on_meta_cdn(url: str) -> bool:
    return "fbcdn.net" in url or "cdninstagram.com" in url


def _cdn_name(url: str) -> str:
    return url.split("?", 1)[0].rsplit("/", 1)[-1]


def seed_facebook(fake: FakeGraph, corpus: Path, now: datetime) -> None:
    """Messenger: the corpus' conversations and messages, plus our Indonesian report; Page
    posts from the corpus feed, and the recorded comment stream under the announcement post."""
    fake.add_page(FB_PAGE, FB_PAGE_NAME, "messenger")
    conversations = load(corpus / "conversations_cvses_info.json")
    recorded = list(load(corpus / "messages_messages_info.json").values())
    first = next(iter(conversations))
    redate(fake, recorded, "created_time", now - timedelta(hours=3))
    for message in recorded:
        fake.add_dm(FB_PAGE, first, message["from"]["id"], cdn_urls(fake, message))
    ours = load(FIXTURES / "facebook" / "messages__road_report.json")
    thread = [
        {**m, "from": ours["user"], "to": {"data": [{"id": FB_PAGE, "name": FB_PAGE_NAME}]}}
        for m in ours["messages"]
    ]
    for rank, message in enumerate(thread):
        message["created_time"] = fake.time(now - timedelta(hours=2) + rank * STEP)
        fake.add_dm(FB_PAGE, ours["conversation_id"], ours["user"]["id"], cdn_urls(fake, message))

    for post in load(corpus / "posts_feeds_default_fields_p1.json")["data"]:
        fake.add_post(FB_PAGE, {**post, "created_time": fake.time(now - timedelta(days=10))})
    announcement = load(FIXTURES / "facebook" / "post__announcement.json")
    fake.add_post(FB_PAGE, {**announcement, "created_time": fake.time(now - timedelta(days=1))})
    for comment in facebook_comments(corpus, now, fake):
        fake.add_comment(announcement["id"], comment)


def facebook_comments(corpus: Path, now: datetime, fake: FakeGraph) -> list[dict[str, Any]]:
    """The recorded stream, given the ids and authors its permalinks and texts imply: replies
    opening with "Hi," are the Page's own answers; every other comment is a citizen's."""
    stream = [
        *load(corpus / "comments_comments_p1.json")["data"],
        *load(corpus / "comments_comments_p2.json")["data"],
    ]
    comments = []
    for rank, recorded in enumerate(stream):
        link = recorded["permalink_url"]
        post = re.search(r"/posts/(\d+)/", link).group(1)  # type: ignore[union-attr]
        top = re.search(r"comment_id=(\d+)", link).group(1)  # type: ignore[union-attr]
        reply = re.search(r"reply_comment_id=(\d+)", link)
        comment = {**recorded, "id": f"{post}_{reply.group(1) if reply else top}"}
        if reply:
            comment["parent"] = {"id": f"{post}_{top}"}
        if reply and recorded["message"].startswith("Hi,"):
            comment["from"] = {"id": FB_PAGE, "name": FB_PAGE_NAME}
        else:
            comment["from"] = {"id": f"58100000000{rank:04d}", "name": f"Warga {rank}"}
        comments.append(comment)
    redate(fake, comments, "created_time", now - timedelta(hours=1))
    return comments


def seed_instagram(fake: FakeGraph, corpus: Path, now: datetime) -> None:
    """Instagram: our DM thread; the recorded comments (with usernames where recorded) and
    reply under our post; the recorded mention."""
    fake.add_page(IG_PAGE, "LaporBupPati", "instagram")
    account = fake.add_page(IG_ACCOUNT, IG_USERNAME, "instagram")
    ours = load(FIXTURES / "instagram" / "messages__report_with_photo.json")
    for rank, message in enumerate(ours["messages"]):
        message = {**message, "from": ours["user"], "to": {"data": [{"id": IG_ACCOUNT}]}}
        message["created_time"] = fake.time(now - timedelta(hours=2) + rank * STEP)
        fake.add_dm(IG_PAGE, ours["conversation_id"], ours["user"]["id"], cdn_urls(fake, message))

    media = load(FIXTURES / "instagram" / "post__media.json")
    fake.add_post(IG_ACCOUNT, {**media, "timestamp": fake.time(now - timedelta(days=1))})
    known = load(corpus / "comments_comments_fields.json")
    comments = [
        *load(corpus / "medias_comments_p1.json")["data"],
        *load(corpus / "medias_comments_p2.json")["data"],
    ]
    for rank, comment in enumerate(comments):
        username = known.get(comment["id"], {}).get("username") or f"warga_pati_{rank}"
        comment |= {"username": username, "from": {"id": f"1784{rank:04d}", "username": username}}
    for reply in load(corpus / "comments_replies.json")["data"]:
        reply |= {"parent_id": "17858154961981086", "username": IG_USERNAME}
        reply["from"] = {"id": IG_ACCOUNT, "username": IG_USERNAME}
        comments.append(reply)
    redate(fake, comments, "timestamp", now - timedelta(hours=1))
    for comment in comments:
        fake.add_comment(media["id"], comment)

    mentioned = load(corpus / "users_mentioned_media.json")["mentioned_media"]
    mention = {**mentioned, "username": "ikroskun", "permalink": "https://www.instagram.com/p/X/"}
    mention["timestamp"] = fake.time(now - timedelta(minutes=30))
    account.tagged.append(cdn_urls(fake, mention))
