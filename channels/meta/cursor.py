"""Where a Graph poller has read up to, per source, and what a fresh listing means against it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from channels.meta.parse import Item


@dataclass(frozen=True, slots=True)
class Change:
    """One thing a poll found: a new item, an edited one, or one gone from its listing."""

    kind: str  # "new" | "edit" | "delete"
    external_id: str
    item: Item | None = None  # None for a deletion


@dataclass(frozen=True, slots=True)
class SourceCursor:
    """`since`: the newest item time read; `seen`: what was read at or after `since - recheck`.

    Graph lists newest first and some edges cannot filter by time, so every poll re-reads a
    little (`recheck`) before `since`: late arrivals there are still caught, and for comments
    an edited text (digest) or a vanished id is noticed. Nothing before `start` (the first
    run's lookback) is ever read.
    """

    since: datetime
    start: datetime
    seen: dict[str, tuple[float, str, str]] = field(default_factory=dict)  # id: (t, digest, scope)

    @classmethod
    def load(cls, value: str | None, start: datetime) -> SourceCursor:
        try:
            data = json.loads(value or "")
            since = datetime.fromisoformat(data["since"])
            first = datetime.fromisoformat(data.get("start") or data["since"])
            seen = {str(k): (float(v[0]), str(v[1]), str(v[2])) for k, v in data["seen"].items()}
        except (ValueError, KeyError, TypeError, IndexError, AttributeError):
            return cls(start, start)
        return cls(since, first, seen)

    def dump(self) -> str:
        seen = {k: list(v) for k, v in sorted(self.seen.items())}
        data = {"since": self.since.isoformat(), "start": self.start.isoformat(), "seen": seen}
        return json.dumps(data, ensure_ascii=False)

    def floor(self, recheck: timedelta) -> datetime:
        """Items older than this need not be listed any more."""
        return max(self.start, self.since - recheck)

    def changes(
        self,
        items: list[Item],
        *,
        recheck: timedelta,
        track_edits: bool = False,
        complete_scopes: frozenset[str] = frozenset(),
    ) -> list[Change]:
        """What is new (oldest first), edited, or deleted in a fresh listing.

        A deletion is only inferred for scopes (posts) whose listing was read to the floor.
        """
        floor = self.floor(recheck)
        found: list[Change] = []
        listed: set[str] = set()
        for item in sorted(items, key=lambda i: (i.at, i.id)):
            key = item.external_id
            if key in listed:
                continue  # a page that arrived twice
            listed.add(key)
            known = self.seen.get(key)
            if known is None:
                if item.at >= floor:
                    found.append(Change("new", key, item))
            elif track_edits and known[1] != item.digest:
                found.append(Change("edit", key, item))
        if track_edits:
            for key, (at, _, scope) in sorted(self.seen.items()):
                gone = key not in listed and scope in complete_scopes
                if gone and _utc(at) >= floor:
                    found.append(Change("delete", key))
        return found

    def advanced(self, changes: list[Change], recheck: timedelta) -> SourceCursor:
        """The cursor once `changes` are committed; ids older than the recheck span drop out."""
        seen = dict(self.seen)
        since = self.since
        for change in changes:
            if change.item is None:
                seen.pop(change.external_id, None)
                continue
            item = change.item
            scope = item.post.id if item.post is not None else (item.thread or "")
            at = item.at or since
            seen[change.external_id] = (at.timestamp(), item.digest, scope)
            since = max(since, at)
        keep_from = (since - recheck).timestamp()
        seen = {k: v for k, v in seen.items() if v[0] >= keep_from}
        return replace(self, since=since, seen=seen)


def _utc(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


def batches(changes: list[Change], size: int) -> list[list[Change]]:
    """`changes` in commits of at most `size`; a reply starts a new commit after its parent's.

    Intake threads a reply by looking its parent up among committed messages, so a comment and
    a reply to it must not share one commit.
    """
    found: list[list[Change]] = []
    batch: list[Change] = []
    ids: set[str] = set()
    for change in changes:
        thread = change.item.thread if change.item is not None else None
        if batch and (len(batch) >= max(size, 1) or thread in ids):
            found.append(batch)
            batch, ids = [], set()
        batch.append(change)
        ids.add(change.external_id)
    if batch:
        found.append(batch)
    return found
