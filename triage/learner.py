"""A text classifier learned from the operators' own decisions: multinomial naive Bayes.

Features are the suggester's terms (triage/terms.py: stemmed words with negation kept,
landmarks and addresses left out) and each pair of neighbouring terms, so "lampu mati" and
"!alir" weigh apart from "lampu" and "alir". Why naive Bayes and our own: it is trained by
counting, so a retrain over a regency's whole history takes well under a second and the model
is a table of counts that fits in one JSON row of the database, read the same by every
process; it is usable from a few dozen examples (logistic regression wants more and an
optimiser); and the words that weighed most fall straight out of its log-probabilities, which
is what the operator is shown. scikit-learn would add NumPy and SciPy (tens of MB) for the
same twenty lines of arithmetic.

Pure: no I/O. `train` takes (text, label) pairs; `probabilities` and `evidence` read a text.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Iterable
from typing import Any

from triage.terms import report_terms

_ALPHA = 0.5  # additive smoothing: an unseen word neither rules a label out nor in
_MAX_FEATURES = 20_000  # the most frequent kept; a regency's vocabulary fits well within


def features(text: str) -> list[str]:
    """The words and neighbouring word pairs a text is classified by."""
    words = [_form(term.word, term.forms) for term in report_terms(text)]
    return words + [f"{a} {b}" for a, b in itertools.pairwise(words)]


def _form(word: str, forms: frozenset[str]) -> str:
    # The stem, with the negation mark kept: the shortest form is the root ("!" sorts first).
    negated = word.startswith("!")
    plain = sorted((f for f in forms if not f.startswith("!")), key=lambda f: (len(f), f))
    root = plain[0] if plain else word.lstrip("!")
    return "!" + root if negated else root


class TextModel:
    """Counts per label: how many examples, and how often each feature occurred."""

    def __init__(
        self, examples: Counter[str] | None = None, counts: dict[str, Counter[str]] | None = None
    ) -> None:
        self.examples: Counter[str] = examples or Counter()
        self.counts: dict[str, Counter[str]] = counts or {}
        self._vocabulary = {f for c in self.counts.values() for f in c}
        self._totals = {label: sum(c.values()) for label, c in self.counts.items()}

    @property
    def size(self) -> int:
        return sum(self.examples.values())

    @classmethod
    def train(cls, labelled: Iterable[tuple[str, str]]) -> TextModel:
        examples: Counter[str] = Counter()
        counts: dict[str, Counter[str]] = {}
        for text, label in labelled:
            examples[label] += 1
            counts.setdefault(label, Counter()).update(features(text))
        return cls(examples, _pruned(counts))

    def probabilities(self, text: str) -> dict[str, float]:
        """P(label | text) for every label seen; {} for an untrained model."""
        if not self.examples:
            return {}
        found = [f for f in features(text) if f in self._vocabulary]
        scores = {label: self._log_joint(label, found) for label in self.examples}
        top = max(scores.values())
        exp = {label: math.exp(s - top) for label, s in scores.items()}
        total = sum(exp.values())
        return {label: v / total for label, v in exp.items()}

    def evidence(self, text: str, label: str, limit: int = 3) -> list[str]:
        """The words of `text` that speak most for `label` against the other labels."""
        if label not in self.counts:
            return []
        others = [other for other in self.counts if other != label]
        weights: dict[str, float] = {}
        for feature in dict.fromkeys(features(text)):
            if not self.counts[label].get(feature):
                continue
            mine = self._log_likelihood(label, feature)
            rest = [self._log_likelihood(o, feature) for o in others]
            weights[feature] = mine - (sum(rest) / len(rest) if rest else 0.0)
        ranked = sorted(weights.items(), key=lambda item: (-item[1], item[0]))
        return [feature for feature, weight in ranked[:limit] if weight > 0]

    def _log_joint(self, label: str, found: list[str]) -> float:
        prior = math.log(self.examples[label] / self.size)
        return prior + sum(self._log_likelihood(label, f) for f in found)

    def _log_likelihood(self, label: str, feature: str) -> float:
        seen = self.counts.get(label, Counter()).get(feature, 0)
        total = self._totals.get(label, 0) + _ALPHA * len(self._vocabulary)
        return math.log((seen + _ALPHA) / total)

    def as_json(self) -> dict[str, Any]:
        return {
            "examples": dict(self.examples),
            "counts": {label: dict(c) for label, c in self.counts.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TextModel:
        return cls(
            Counter(data.get("examples", {})),
            {label: Counter(c) for label, c in data.get("counts", {}).items()},
        )


def _pruned(counts: dict[str, Counter[str]]) -> dict[str, Counter[str]]:
    """Only the most frequent features, so the stored model stays small."""
    total: Counter[str] = Counter()
    for c in counts.values():
        total.update(c)
    if len(total) <= _MAX_FEATURES:
        return counts
    keep = {f for f, _ in total.most_common(_MAX_FEATURES)}
    return {
        label: Counter({f: n for f, n in c.items() if f in keep}) for label, c in counts.items()
    }
