"""Is a new report probably the same as an open ticket? Similar words, near place, recent.

Text similarity is the cosine of the two reports' sets of word stems (stop words left out),
which treats a short report and a long one about the same thing fairly. When both reports carry
a location they must lie within `max_distance_m` of each other, and nearness counts for 40% of
the score (1 at the same spot, 0 at the limit). Reports sharing no word are never duplicates.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from triage.config import TriageConfig
from triage.stemmer import content_stems

EARTH_RADIUS_M = 6_371_000.0
_PLACE_WEIGHT = 0.4


@dataclass(frozen=True, slots=True)
class ReportFacts:
    """What is known of the new report."""

    text: str
    received_at: datetime
    location: tuple[float, float] | None = None  # (latitude, longitude)


@dataclass(frozen=True, slots=True)
class OpenTicket:
    """An open ticket it may repeat: its number, first report text, arrival and location."""

    number: str
    text: str
    received_at: datetime
    location: tuple[float, float] | None = None


@dataclass(frozen=True, slots=True)
class DuplicateMatch:
    number: str  # the likely original
    score: float  # 0..1, compared with min_score
    text_score: float
    distance_m: float | None  # None unless both reports have a location


@dataclass(frozen=True, slots=True)
class DuplicateRules:
    window: timedelta = timedelta(days=14)
    max_distance_m: float = 300.0
    min_score: float = 0.5

    @classmethod
    def from_config(cls, triage: TriageConfig) -> DuplicateRules:
        return cls(triage.duplicate_window, triage.duplicate_distance_m, triage.duplicate_min_score)


def rank_duplicates(
    new: ReportFacts, candidates: Iterable[OpenTicket], rules: DuplicateRules = DuplicateRules()
) -> list[DuplicateMatch]:
    """Every candidate scoring at least `rules.min_score`, best first (newer first on ties)."""
    words = stem_set(new.text)
    found = []
    for ticket in candidates:
        if abs(new.received_at - ticket.received_at) > rules.window:
            continue
        text_score = similarity(words, stem_set(ticket.text))
        if text_score == 0:
            continue
        score, distance = text_score, None
        if new.location is not None and ticket.location is not None:
            distance = haversine_m(new.location, ticket.location)
            if distance > rules.max_distance_m:
                continue
            nearness = 1 - distance / rules.max_distance_m
            score = (1 - _PLACE_WEIGHT) * text_score + _PLACE_WEIGHT * nearness
        if score >= rules.min_score:
            match = DuplicateMatch(ticket.number, round(score, 3), round(text_score, 3), distance)
            found.append((-match.score, -ticket.received_at.timestamp(), match))
    return [match for *_, match in sorted(found, key=lambda item: item[:2])]


def find_duplicate(
    new: ReportFacts, candidates: Sequence[OpenTicket], rules: DuplicateRules = DuplicateRules()
) -> DuplicateMatch | None:
    """The likely original of `new` among `candidates`, or None."""
    ranked = rank_duplicates(new, candidates, rules)
    return ranked[0] if ranked else None


@lru_cache(maxsize=4096)
def stem_set(text: str) -> frozenset[str]:
    """A text's stems, kept: the same open tickets are compared with every new report."""
    return frozenset(content_stems(text))


def similarity(a: frozenset[str] | set[str], b: frozenset[str] | set[str]) -> float:
    """Cosine similarity of two sets of stems: shared / sqrt(|a| * |b|)."""
    if not a or not b:
        return 0.0
    return len(a & b) / math.sqrt(len(a) * len(b))


def haversine_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in metres between two (latitude, longitude) points."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))
