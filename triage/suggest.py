"""Category and OPD suggestions for a report, from the keywords of each `[[category]]`.

A report is read as terms (triage/terms.py): negated words are terms of their own and
landmarks ("depan SD ...") are left out. A keyword hits when all its words occur close
together, in any order, so "jalan berlubang", "lubang di jalan" and "jalannya rusak" all hit
the roads keywords, with two limits:

- a word that belongs to another category's phrase written out in the report ("lampu merah")
  is not free for this category ("lampu jalan"), and a keyword's words may not reach across
  such a phrase ("lampu merah di simpang Jl. Pemuda yang mati" is no "lampu ... mati");
- a keyword weighs the specificity of its words: each word counts 1 + ln(categories / number
  of categories whose keywords use it), so "air" or "jalan", in many categories' keywords,
  weighs less than "pdam". A keyword listed by several categories is shared among them.

A category's score is the sum of its hits; scores compare categories for one report, they are
not probabilities. A category with several OPDs (`opd = ["DISHUB", "SATPOLPP"]`) goes to the
one whose `opd_keywords` weigh most in the report, else to the first.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from triage.config import CategoryConfig
from triage.terms import keyword_forms, report_terms

_SLACK = 2  # other words allowed between the words of a keyword

_Positions = dict[str, list[int]]
_Span = tuple[int, int, int]  # first and last term of a phrase written out, its category


@dataclass(frozen=True, slots=True)
class Suggestion:
    category: str  # the category code
    opd: str | None  # the code of the OPD it goes to
    score: float
    # Why: the keywords that hit, as written in config, the heaviest first; then the OPD
    # keywords that chose among the category's OPDs.
    matched: tuple[str, ...]
    # The words of the report that weighed most in the model learned from operators'
    # decisions (triage/blend.py); () at cold start.
    learned: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Keyword:
    text: str
    forms: tuple[str, ...]
    weight: float
    owner: int  # the category's place in config


class Suggester:
    """The categories' keywords, read once; `suggest` ranks categories for one report."""

    def __init__(self, categories: Sequence[CategoryConfig]) -> None:
        self._categories = list(categories)
        read = [
            [(kw, tuple(dict.fromkeys(keyword_forms(kw)))) for kw in cat.keywords]
            for cat in self._categories
        ]
        used_by = Counter(form for entries in read for form in {f for _, fs in entries for f in fs})
        count = max(len(self._categories), 1)
        self._specificity = {form: 1 + math.log(count / n) for form, n in used_by.items()}
        listed_in = Counter(forms for entries in read for forms in {fs for _, fs in entries})
        self._keywords = [
            _Keyword(kw, forms, self._weight(forms) / listed_in[forms], order)
            for order, entries in enumerate(read)
            for kw, forms in entries
            if forms
        ]
        self._phrases = [kw for kw in self._keywords if len(kw.forms) > 1]
        # Per category with several OPDs: each OPD other than the first with its keywords.
        self._opd_keywords = {
            order: [
                (opd, [self._keyword(kw, order) for kw in keywords])
                for opd, keywords in cat.opd_keywords.items()
            ]
            for order, cat in enumerate(self._categories)
            if cat.opd_keywords
        }

    def _weight(self, forms: tuple[str, ...]) -> float:
        # A word no category uses (an OPD keyword's) is as specific as a word one category uses.
        rarest = 1 + math.log(max(len(self._categories), 1))
        return sum(self._specificity.get(form, rarest) for form in forms)

    def _keyword(self, text: str, owner: int) -> _Keyword:
        forms = tuple(dict.fromkeys(keyword_forms(text)))
        return _Keyword(text, forms, self._weight(forms), owner)

    def suggest(self, text: str, limit: int = 3) -> list[Suggestion]:
        """The best `limit` categories for `text`, highest score first; [] when nothing hits."""
        positions: _Positions = {}
        for i, term in enumerate(report_terms(text)):
            for form in term.forms:
                positions.setdefault(form, []).append(i)
        spans = _written_phrases(self._phrases, positions)
        by_category: dict[int, list[_Keyword]] = {}
        for keyword in self._keywords:
            if _hits(keyword, positions, spans):
                by_category.setdefault(keyword.owner, []).append(keyword)
        found = []
        for order, hits in by_category.items():
            cat = self._categories[order]
            score = round(sum(kw.weight for kw in hits), 3)
            heaviest = sorted(hits, key=lambda kw: -kw.weight)
            opd, chosen_by = self._opd_for(order, positions, spans)
            matched = tuple(kw.text for kw in heaviest) + chosen_by
            found.append((-score, order, Suggestion(cat.code, opd, score, matched)))
        return [suggestion for _, _, suggestion in sorted(found)[:limit]]

    def _opd_for(
        self, order: int, positions: _Positions, spans: list[_Span]
    ) -> tuple[str | None, tuple[str, ...]]:
        """The category's OPD for this report, and the OPD keywords that chose it."""
        best, best_weight, chosen_by = self._categories[order].opd, 0.0, ()
        for opd, keywords in self._opd_keywords.get(order, ()):
            hits = [kw for kw in keywords if _hits(kw, positions, spans)]
            weight = sum(kw.weight for kw in hits)
            if weight > best_weight:
                best, best_weight, chosen_by = opd, weight, tuple(kw.text for kw in hits)
        return best, chosen_by


def suggest(text: str, categories: Sequence[CategoryConfig], limit: int = 3) -> list[Suggestion]:
    """One-off form of `Suggester(categories).suggest(text, limit)`."""
    return Suggester(categories).suggest(text, limit)


def _written_phrases(phrases: list[_Keyword], positions: _Positions) -> list[_Span]:
    """Where a keyword of two or more words stands written out, word after word."""
    spans = []
    for phrase in phrases:
        first, rest = phrase.forms[0], phrase.forms[1:]
        for start in positions.get(first, ()):
            if all(start + j + 1 in positions.get(form, ()) for j, form in enumerate(rest)):
                spans.append((start, start + len(phrase.forms) - 1, phrase.owner))
    return spans


def _hits(keyword: _Keyword, positions: _Positions, spans: list[_Span]) -> bool:
    """All of the keyword's words occur within a window of its length plus some slack, on
    terms no other category's written-out phrase holds, and not across such a phrase."""
    others = [(s, e) for s, e, owner in spans if owner != keyword.owner]
    free = []
    for form in keyword.forms:
        at = [p for p in positions.get(form, ()) if not any(s <= p <= e for s, e in others)]
        if not at:
            return False
        free.append(at)
    if len(free) == 1:
        return True
    span = len(keyword.forms) + _SLACK
    # The shortest window holding every word starts at one of them: try each such start.
    for start in sorted(p for at in free for p in at):
        chosen = [min((p for p in at if start <= p < start + span), default=None) for at in free]
        if None in chosen:
            continue
        end = max(p for p in chosen if p is not None)
        if not any(start < s and e < end for s, e in others):
            return True
    return False
