"""How far to trust the suggestions on a regency's own history (`main.py triage evaluate`).

The labelled reports (an SP4N-LAPOR! export, lapor/records.py) are put in date order; the
learned models are trained on the earlier part and every suggestion is measured on the later
part, once with the keywords alone (cold start) and once with what was learned. Out of region:
a report whose "Kota/Kabupaten" names another regency or city should be flagged by the
jurisdiction check; reports without that column count in neither direction.

Pure: the reports, the keyword suggester and the jurisdiction check are given.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from lapor import columns as col
from lapor.records import LaporReport
from triage.blend import BlendedSuggester, LearnedModels
from triage.config import CategoryConfig
from triage.learner import TextModel
from triage.suggest import Suggester

OutOfRegion = Callable[[str], bool]  # True: the check flags the text as outside the region


def split_by_date(
    reports: Sequence[LaporReport], share: float
) -> tuple[list[LaporReport], list[LaporReport]]:
    """The earliest `share` of the reports, and the rest."""
    ordered = sorted(reports, key=lambda r: (r.created_at, r.line))
    cut = round(len(ordered) * share)
    return ordered[:cut], ordered[cut:]


def train_on(reports: Sequence[LaporReport]) -> LearnedModels:
    return LearnedModels(
        TextModel.train((report_text(r), r.category) for r in reports if r.category),
        TextModel.train((report_text(r), r.opd) for r in reports if r.opd),
    )


def report_text(report: LaporReport) -> str:
    return " ".join(filter(None, [report.title, report.text]))


def evaluate(
    reports: Sequence[LaporReport],
    categories: Sequence[CategoryConfig],
    *,
    split: float = 0.5,
    region: str = "",
    out_of_region: OutOfRegion | None = None,
) -> dict[str, Any]:
    earlier, later = split_by_date(reports, split)
    keywords = Suggester(categories)
    models = train_on(earlier)
    learned = BlendedSuggester(keywords, categories, models)
    figures: dict[str, Any] = {
        "trained_on": len(earlier),
        "measured_on": len(later),
        "examples": {"category": models.category.size, "opd": models.opd.size},
        "keywords_only": _measure(keywords, later),
        "with_learning": _measure(learned, later),
    }
    if out_of_region is not None:
        figures["out_of_region"] = _out_of_region(later, region, out_of_region)
    return figures


def _measure(suggester: Suggester | BlendedSuggester, reports: Sequence[LaporReport]) -> dict:
    labelled = [r for r in reports if r.category]
    with_opd = [r for r in reports if r.opd]
    top1 = top3 = either = none = opd_right = 0
    confusions: Counter[tuple[str, str]] = Counter()
    for report in reports:
        found = suggester.suggest(report_text(report), 3)
        if not found:
            none += 1
        first = found[0] if found else None
        if report.opd and first is not None and first.opd == report.opd:
            opd_right += 1
        if not report.category:
            continue
        right = first is not None and first.category == report.category
        top1 += right
        top3 += report.category in [s.category for s in found]
        either += right or (
            first is not None and report.opd is not None and first.opd == report.opd
        )
        if not right:
            confusions[report.category, first.category if first else "-"] += 1
    return {
        "top1_category": _share(top1, len(labelled)),
        "top3_category": _share(top3, len(labelled)),
        "opd": _share(opd_right, len(with_opd)),
        "right_by_either": _share(either, len(labelled)),
        "without_suggestion": _share(none, len(reports)),
        "confusions": [
            {"label": label, "suggested": got, "count": n}
            for (label, got), n in confusions.most_common(10)
        ],
    }


def _out_of_region(
    reports: Sequence[LaporReport], region: str, flags: OutOfRegion
) -> dict[str, Any]:
    mine = _place(region)
    caught = flagged = outside = 0
    for report in reports:
        named = _place(report.extra.get(col.REGENCY, ""))
        if not named:
            continue
        is_outside = named != mine
        is_flagged = flags(report_text(report))
        outside += is_outside
        flagged += is_flagged
        caught += is_outside and is_flagged
    return {
        "outside": outside,
        "flagged": flagged,
        "precision": _share(caught, flagged),
        "recall": _share(caught, outside),
    }


def _place(name: str) -> str:
    """ "Kab. Pati", "KABUPATEN PATI" and "Pati" alike; "Kota Pati" apart."""
    text = re.sub(r"\s+", " ", name.casefold().replace(".", ". ")).strip()
    text = re.sub(r"^kab\. ", "kabupaten ", text)
    if text and not text.startswith(("kabupaten ", "kota ")):
        text = "kabupaten " + text
    return text


def _share(n: int, of: int) -> float | None:
    return round(n / of, 3) if of else None


def as_text(figures: dict[str, Any]) -> str:
    lines = [
        f"trained on {figures['trained_on']} earlier reports, measured on"
        f" {figures['measured_on']} later ones",
        f"{'':24}{'keywords':>10}{'learned':>10}",
    ]
    cold, warm = figures["keywords_only"], figures["with_learning"]
    for key, label in (
        ("top1_category", "top-1 category"),
        ("top3_category", "top-3 category"),
        ("opd", "OPD"),
        ("right_by_either", "right by either label"),
        ("without_suggestion", "without suggestion"),
    ):
        lines.append(f"{label:24}{_figure(cold[key]):>10}{_figure(warm[key]):>10}")
    place = figures.get("out_of_region")
    if place is not None:
        lines.append(
            f"out of region: {place['outside']} named, {place['flagged']} flagged;"
            f" precision {_figure(place['precision'])}, recall {_figure(place['recall'])}"
        )
    lines.append("most common confusions with learning (label -> suggested):")
    lines += [f"  {c['count']:3d}  {c['label']} -> {c['suggested']}" for c in warm["confusions"]]
    return "\n".join(lines)


def _figure(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"
