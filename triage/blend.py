"""Suggestions from the keywords and from what the operators taught, weighed by experience.

The keyword suggester (triage/suggest.py) is the prior: its scores, shared out over the
categories that hit, say how likely each one is. The learned models (triage/learner.py) say the
same from the regency's own verified tickets. The two are mixed with the model's weight
n / (n + k), n the examples it learned from and k = PRIOR_PER_CATEGORY examples for each
configured category (the keywords count as that many verified tickets of every category): at
cold start the keywords decide alone, after some dozens of verified tickets per category mostly
the model. On the dev set (bench/triage_eval.py --learn: 64 examples, 16 categories) 5 per
category did best among 10, 20, 40 and 80 in all; fewer let a model that has seen four reports
of a category overrule good keywords. A category the keywords missed
is suggested when the model alone gives it at least MIN_SHARE.

The category model also knows rejections ("reject:spam", ...) as labels: a report like those
the operators rejected leaves less weight for every category, instead of being pushed into one.

Pure: the models are given; triage/learning.py trains, stores and loads them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from triage.config import CategoryConfig
from triage.learner import TextModel
from triage.suggest import Suggester, Suggestion

PRIOR_PER_CATEGORY = 5  # the keyword prior counts as this many examples of each category
MIN_SHARE = 0.1  # the least blended weight a category needs to be suggested
REJECTED = "reject:"  # the category model's labels for rejected reports


@dataclass(frozen=True, slots=True)
class LearnedModels:
    category: TextModel  # labels: category codes and "reject:<resolution>"
    opd: TextModel  # labels: OPD codes tickets were forwarded to

    @classmethod
    def empty(cls) -> LearnedModels:
        return cls(TextModel(), TextModel())


def model_weight(examples: int, categories: int) -> float:
    return examples / (examples + PRIOR_PER_CATEGORY * max(categories, 1))


class BlendedSuggester:
    """Same `suggest` as the keyword Suggester, with the learned models mixed in."""

    def __init__(
        self, keywords: Suggester, categories: Sequence[CategoryConfig], models: LearnedModels
    ) -> None:
        self.keywords = keywords
        self.categories = {c.code: c for c in categories}
        self.models = models
        count = len(self.categories)
        self._category_weight = model_weight(models.category.size, count)
        self._opd_weight = model_weight(models.opd.size, count)

    def suggest(self, text: str, limit: int = 3) -> list[Suggestion]:
        by_keywords = {s.category: s for s in self.keywords.suggest(text, len(self.categories))}
        if not self._category_weight:
            return list(by_keywords.values())[:limit]
        total = sum(s.score for s in by_keywords.values()) or 1.0
        learned = self.models.category.probabilities(text)
        w = self._category_weight
        blended = {
            code: (1 - w) * (by_keywords[code].score / total if code in by_keywords else 0.0)
            + w * learned.get(code, 0.0)
            for code in self.categories
        }
        chosen = [
            code
            for code, share in sorted(blended.items(), key=lambda item: (-item[1], item[0]))
            if code in by_keywords or share >= MIN_SHARE
        ][:limit]
        return [
            self._suggestion(text, code, blended[code], by_keywords.get(code)) for code in chosen
        ]

    def _suggestion(
        self, text: str, code: str, share: float, by_keywords: Suggestion | None
    ) -> Suggestion:
        default = by_keywords.opd if by_keywords else self.categories[code].opd
        opd = self._opd(text, default)
        return Suggestion(
            category=code,
            opd=opd,
            score=round(share, 3),
            matched=by_keywords.matched if by_keywords else (),
            learned=tuple(self.models.category.evidence(text, code)),
        )

    def _opd(self, text: str, default: str | None) -> str | None:
        """The keywords' OPD, unless the OPD model, at its weight, points elsewhere."""
        if not self._opd_weight:
            return default
        learned = self.models.opd.probabilities(text)
        w = self._opd_weight
        scores = {opd: w * p for opd, p in learned.items()}
        if default is not None:
            scores[default] = scores.get(default, 0.0) + (1 - w)
        return max(scores, key=lambda opd: (scores[opd], opd == default)) if scores else None
