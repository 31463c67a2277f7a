"""Category and OPD suggestions for a report, from the keywords of each `[[category]]`.

A keyword hits when all its word stems occur close together in the report, in any order, so
"jalan berlubang", "lubang di jalan" and "jalannya rusak" all hit the roads keywords. A hit
weighs the number of words in the keyword (phrases are more telling than single words), divided
by the number of categories that list the same keyword. A category's score is the sum of its
hits; scores compare categories for one report, they are not probabilities.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from triage.config import CategoryConfig
from triage.stemmer import content_stems

_SLACK = 2  # other words allowed between the words of a keyword


@dataclass(frozen=True, slots=True)
class Suggestion:
    category: str  # the category code
    opd: str | None  # the code of the OPD it goes to
    score: float
    matched: tuple[str, ...]  # the keywords that hit, as written in config


@dataclass(frozen=True, slots=True)
class _Keyword:
    text: str
    stems: tuple[str, ...]
    weight: float


class Suggester:
    """The categories' keywords, stemmed once; `suggest` ranks categories for one report."""

    def __init__(self, categories: Sequence[CategoryConfig]) -> None:
        self._categories = list(categories)
        stemmed = [
            [(kw, tuple(dict.fromkeys(content_stems(kw)))) for kw in cat.keywords]
            for cat in self._categories
        ]
        listed_in = Counter(stems for entries in stemmed for stems in {s for _, s in entries})
        self._keywords = [
            [_Keyword(kw, stems, len(stems) / listed_in[stems]) for kw, stems in entries if stems]
            for entries in stemmed
        ]
        # Which keywords each stem starts, so a report is checked only against keywords whose
        # first word it contains: (category's place, keyword's place in the category).
        self._starting: dict[str, list[tuple[int, int]]] = {}
        for order, keywords in enumerate(self._keywords):
            for place, keyword in enumerate(keywords):
                self._starting.setdefault(keyword.stems[0], []).append((order, place))

    def suggest(self, text: str, limit: int = 3) -> list[Suggestion]:
        """The best `limit` categories for `text`, highest score first; [] when nothing hits."""
        stems = content_stems(text)
        positions: dict[str, list[int]] = {}
        for i, word in enumerate(stems):
            positions.setdefault(word, []).append(i)
        # In config order, as the scores are summed in that order.
        hit = sorted(
            at
            for word in positions
            for at in self._starting.get(word, ())
            if _hits(self._keywords[at[0]][at[1]].stems, positions)
        )
        by_category: dict[int, list[_Keyword]] = {}
        for order, place in hit:
            by_category.setdefault(order, []).append(self._keywords[order][place])
        found = []
        for order, hits in by_category.items():
            cat = self._categories[order]
            score = round(sum(kw.weight for kw in hits), 3)
            matched = tuple(kw.text for kw in hits)
            found.append((-score, order, Suggestion(cat.code, cat.opd, score, matched)))
        return [suggestion for _, _, suggestion in sorted(found)[:limit]]


def suggest(text: str, categories: Sequence[CategoryConfig], limit: int = 3) -> list[Suggestion]:
    """One-off form of `Suggester(categories).suggest(text, limit)`."""
    return Suggester(categories).suggest(text, limit)


def _hits(keyword: tuple[str, ...], positions: dict[str, list[int]]) -> bool:
    """All of the keyword's stems occur within a window of its length plus some slack."""
    if any(word not in positions for word in keyword):
        return False
    if len(keyword) == 1:
        return True
    span = len(keyword) + _SLACK
    # The shortest window holding every word starts at one of them: try each such start.
    starts = sorted(p for word in keyword for p in positions[word])
    return any(
        all(any(start <= p < start + span for p in positions[word]) for word in keyword)
        for start in starts
    )
