"""Is a new report probably the same as an open ticket? Similar words, near place, recent.

Only tickets that arrived before the report are compared (in one intake batch, those with a
lower number), so two reports never name each other. Text similarity is the cosine of the two
reports' word stems (stop words left out), each stem weighted by how rare it is among the
open tickets compared (IDF: the words every report uses, "jalan", "rusak", "mohon
ditindaklanjuti", weigh little) and doubled when it names a place (a capitalised name, or the
word after "Jl.", "desa", "depan" ...): two reports about the same street share what matters,
two about different streets with the same wording do not. When both reports carry a location
they must lie within `max_distance_m` of each other, and nearness counts for 40% of the score
(1 at the same spot, 0 at the limit). Reports sharing no word are never duplicates.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from triage.config import TriageConfig
from triage.stemmer import STOP_WORDS, stem, word_tokens
from triage.terms import PLACE_MARKERS

EARTH_RADIUS_M = 6_371_000.0
_PLACE_WEIGHT = 0.4
_MICROSECOND = timedelta(microseconds=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NAIVE_EPOCH = datetime(1970, 1, 1)
_Place = tuple[float, float, float]  # latitude and longitude in radians, cosine of the latitude
_PLACE_NAME_WEIGHT = 2.0
# Words after which the next word names a place ("Jl. Kartini", "desa Kajen", "depan Masjid").
_PLACE_WORDS = PLACE_MARKERS | frozenset(
    "jalan desa dukuh dusun kelurahan kecamatan kampung perum perumahan gang gg rt rw".split()
)


@dataclass(frozen=True, slots=True)
class ReportFacts:
    """What is known of the new report."""

    text: str
    received_at: datetime
    location: tuple[float, float] | None = None  # (latitude, longitude)
    # Its ticket's number: tickets that arrived at the same moment (one intake batch) count as
    # earlier only if their number is lower.
    number: str | None = None


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


class Candidates:
    """Open tickets readied once for comparing many new reports with them: each one's words,
    arrival and place are worked out here, not again for every report, and tickets whose texts
    read the same share one text score. The words' rarity (IDF) is counted over these tickets."""

    __slots__ = ("_excluded", "_norms", "_places", "_rarity", "_rows", "_shapes")

    def __init__(self, tickets: Iterable[OpenTicket]) -> None:
        shapes: dict[str, int] = {}  # text -> its index in _shapes
        # (ticket, arrival, index of its text's words, place)
        self._rows: list[tuple[OpenTicket, int, int, _Place | None]] = []
        for ticket in tickets:
            shape = shapes.setdefault(ticket.text, len(shapes))
            place = _place(ticket.location)
            self._rows.append((ticket, _microseconds(ticket.received_at), shape, place))
        read = [text_words(text) for text in shapes]
        self._shapes = [words for words, _ in read]
        # A word that names a place in any ticket weighs as a place name in all of them, so
        # two texts with the same words score 1 however each was capitalised.
        self._places = frozenset().union(*(places for _, places in read))
        used_by = Counter(word for _, _, shape, _ in self._rows for word in self._shapes[shape])
        count = len(self._rows)
        # Smoothed IDF: a word no ticket has weighs most, one every ticket has weighs 1.
        self._rarity = {word: 1 + math.log((1 + count) / (1 + n)) for word, n in used_by.items()}
        self._norms = [self._norm(words, self._places) for words in self._shapes]
        self._excluded: str | None = None

    def _weight(self, word: str, places: frozenset[str]) -> float:
        rarity = self._rarity.get(word, 1 + math.log(1 + len(self._rows)))
        return rarity * (_PLACE_NAME_WEIGHT if word in places else 1.0)

    def _norm(self, words: frozenset[str], places: frozenset[str]) -> float:
        return math.sqrt(sum(self._weight(word, places) ** 2 for word in words))

    def without(self, number: str) -> Candidates:
        """The same candidates less ticket `number` (a new report's own ticket), at no cost."""
        other = object.__new__(Candidates)
        other._rows, other._shapes, other._excluded = self._rows, self._shapes, number
        other._rarity, other._norms, other._places = self._rarity, self._norms, self._places
        return other

    def best(self, new: ReportFacts, rules: DuplicateRules) -> DuplicateMatch | None:
        """What `rank_duplicates` would put first, without ranking the rest."""
        last = deque(self._scored(new, rules, improving=True), maxlen=1)
        return _match(*last[0]) if last else None

    def ranked(self, new: ReportFacts, rules: DuplicateRules) -> list[DuplicateMatch]:
        found = sorted(self._scored(new, rules), key=lambda item: (-item[0], -item[1]))
        return [_match(*item) for item in found]

    def _text_scores(self, words: frozenset[str], places: frozenset[str]) -> list[float]:
        """The weighted cosine of the report's words with each candidate text's."""
        more = places - self._places  # place names only the new report has
        places = self._places | more
        weights = {word: self._weight(word, places) for word in words}
        norm = math.sqrt(sum(w * w for w in weights.values()))
        scores = []
        for shape, other in enumerate(self._shapes):
            shared = sum(weights[word] ** 2 for word in words & other)
            if not shared:
                scores.append(0.0)
                continue
            other_norm = self._norm(other, places) if more & other else self._norms[shape]
            scores.append(min(shared / (norm * other_norm), 1.0))
        return scores

    def _scored(
        self, new: ReportFacts, rules: DuplicateRules, *, improving: bool = False
    ) -> Iterator[tuple[float, int, OpenTicket, float, float | None]]:
        """(score rounded, arrival, ticket, text score, distance) of each candidate scoring at
        least the minimum, in the candidates' order; if `improving`, only of those that rank
        before every one yielded so far, so the last one is the best."""
        words, places = text_words(new.text)
        if not words:
            return
        text_scores = self._text_scores(words, places)
        rounded = [round(score, 3) for score in text_scores]
        arrival, window = _microseconds(new.received_at), rules.window // _MICROSECOND
        excluded, min_score, limit = self._excluded, rules.min_score, rules.max_distance_m
        here = _place(new.location)
        top, newest = -math.inf, 0
        for ticket, received, shape, place in self._rows:
            if arrival - received > window or ticket.number == excluded:
                continue
            if not _earlier(received, ticket.number, arrival, new.number):
                continue
            text_score = text_scores[shape]
            if text_score == 0:
                continue
            if here is None or place is None:
                if text_score < min_score:
                    continue
                score, distance = rounded[shape], None
            else:
                distance = _arc_m(*here, *place)
                if distance > limit:
                    continue
                nearness = 1 - distance / limit
                exact = (1 - _PLACE_WEIGHT) * text_score + _PLACE_WEIGHT * nearness
                if exact < min_score:
                    continue
                score = round(exact, 3)
            if improving:
                # Newer wins a tie; on a full tie the first one stays, as in a stable sort.
                if score < top or (score == top and received <= newest):
                    continue
                top, newest = score, received
            yield score, received, ticket, text_score, distance


def _earlier(received: int, number: str, arrival: int, new_number: str | None) -> bool:
    """Did the ticket arrive before the report? At the same moment, the lower number did."""
    if received != arrival:
        return received < arrival
    return new_number is None or _number_order(number) < _number_order(new_number)


def _number_order(number: str) -> tuple[str, int]:
    """A ticket number as ("LBP-2026", 12): serials may outgrow their zero padding."""
    head, _, serial = number.rpartition("-")
    return (head, int(serial)) if serial.isdigit() else (number, 0)


def rank_duplicates(
    new: ReportFacts,
    candidates: Iterable[OpenTicket] | Candidates,
    rules: DuplicateRules = DuplicateRules(),
) -> list[DuplicateMatch]:
    """Every candidate scoring at least `rules.min_score`, best first (newer first on ties)."""
    if not isinstance(candidates, Candidates):
        candidates = Candidates(candidates)
    return candidates.ranked(new, rules)


def find_duplicate(
    new: ReportFacts,
    candidates: Sequence[OpenTicket] | Candidates,
    rules: DuplicateRules = DuplicateRules(),
) -> DuplicateMatch | None:
    """The likely original of `new` among `candidates`, or None."""
    if not isinstance(candidates, Candidates):
        candidates = Candidates(candidates)
    return candidates.best(new, rules)


@lru_cache(maxsize=4096)
def text_words(text: str) -> tuple[frozenset[str], frozenset[str]]:
    """A text's stems (stop words and numbers left out), and those of them that name a place
    there: a capitalised word within a sentence, or the word after a place word ("desa Kajen").
    Kept: the same open tickets are compared with every new report."""
    words, places = set(), set()
    after_place = False
    for word, named in word_tokens(text):
        if word in STOP_WORDS or word.isdigit():
            continue
        root = stem(word)
        words.add(root)
        if named or after_place:
            places.add(root)
        after_place = word in _PLACE_WORDS
    return frozenset(words), frozenset(places)


def similarity(a: frozenset[str] | set[str], b: frozenset[str] | set[str]) -> float:
    """Cosine similarity of two sets of stems: shared / sqrt(|a| * |b|)."""
    if not a or not b:
        return 0.0
    return len(a & b) / math.sqrt(len(a) * len(b))


def haversine_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in metres between two (latitude, longitude) points."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    return _arc_m(lat1, lon1, math.cos(lat1), lat2, lon2, math.cos(lat2))


def _arc_m(lat1: float, lon1: float, cos1: float, lat2: float, lon2: float, cos2: float) -> float:
    """Haversine over radians, with each point's cosine of latitude worked out beforehand."""
    h = math.sin((lat2 - lat1) / 2) ** 2 + cos1 * cos2 * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))


def _place(location: tuple[float, float] | None) -> _Place | None:
    if location is None:
        return None
    latitude, longitude = map(math.radians, location)
    return latitude, longitude, math.cos(latitude)


def _match(
    score: float, _: int, ticket: OpenTicket, text_score: float, distance: float | None
) -> DuplicateMatch:
    return DuplicateMatch(ticket.number, score, round(text_score, 3), distance)


def _microseconds(moment: datetime) -> int:
    """A moment as whole microseconds since 1970: exact, unlike a float timestamp."""
    try:
        return (moment - _EPOCH) // _MICROSECOND
    except TypeError:  # naive, as a caller may pass in a test
        return (moment - _NAIVE_EPOCH) // _MICROSECOND
