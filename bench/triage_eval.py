"""How well the category and OPD suggestions do on the labelled dev set in bench/triage/.

Each report of `bench/triage/reports.jsonl` (text, category, opd, half) is run through the
suggester built from config.toml, cold (keywords only). Prints top-1 and top-3 category
accuracy, OPD accuracy (the OPD of the first suggestion), right by either label, the share
without any suggestion and the most common confusions, as text or `--format json`.

    .venv/bin/python bench/triage_eval.py                 # the code and config of this checkout
    .venv/bin/python bench/triage_eval.py --half a        # only the reports written first
    .venv/bin/python bench/triage_eval.py --commit 0cd8267  # the suggester of another commit
    .venv/bin/python bench/triage_eval.py --learn          # learn from half a, measure half b

`--learn` trains the learned models (triage/learner.py) on the reports of half a, as if
operators had verified them, and measures half b twice: keywords alone, and blended with what
was learned (triage/blend.py).

`--commit` reads that commit's suggester, stemmer and config.toml out of git into a temporary
folder and runs there, so a change can be measured against the code it replaced.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import tomllib
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEV_SET = REPO / "bench" / "triage" / "reports.jsonl"
# What a suggester needs from a checkout: enough to build it from config.toml.
_MODULES = ("triage/__init__.py", "triage/config.py", "triage/stemmer.py", "triage/suggest.py")
_OPTIONAL = ("triage/negation.py", "triage/landmarks.py", "durations.py")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dev-set", type=Path, default=DEV_SET)
    parser.add_argument("--half", choices=["a", "b", "all"], default="all")
    parser.add_argument("--format", choices=["text", "json"], default="text")
    parser.add_argument("--commit", help="measure the suggester of this git commit instead")
    parser.add_argument(
        "--stemmer",
        choices=["kanal", "pysastrawi"],
        default="kanal",
        help="pysastrawi: the same suggester with PySastrawi's stemmer in place of Kanal's",
    )
    parser.add_argument("--config", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument(
        "--learn", action="store_true", help="train on half a, measure half b before and after"
    )
    args = parser.parse_args()
    if args.commit:
        sys.exit(_run_at_commit(args))
    sys.path.insert(0, str(REPO))
    config = args.config or REPO / "config.toml"
    reports = [json.loads(line) for line in args.dev_set.read_text().splitlines() if line.strip()]
    if args.half != "all":
        reports = [r for r in reports if r["half"] == args.half]
    if args.stemmer == "pysastrawi":
        _use_pysastrawi()
    if args.learn:
        figures = learning(reports, config)
        print(json.dumps(figures, indent=2, ensure_ascii=False))
        return
    figures = evaluate(reports, config)
    if args.format == "json":
        print(json.dumps(figures, indent=2, ensure_ascii=False))
    else:
        print(as_text(figures))


def learning(reports: list[dict], config: Path) -> dict:
    """Half b measured with the keywords alone and with models learned from half a."""
    from triage.blend import BlendedSuggester, LearnedModels
    from triage.config import CategoryConfig
    from triage.learner import TextModel
    from triage.suggest import Suggester

    categories = [CategoryConfig(**c) for c in tomllib.loads(config.read_text())["category"]]
    taught = [r for r in reports if r["half"] == "a"]
    measured = [r for r in reports if r["half"] == "b"]
    models = LearnedModels(
        TextModel.train((r["text"], r["category"]) for r in taught),
        TextModel.train((r["text"], r["opd"]) for r in taught),
    )
    keywords = Suggester(categories)
    blended = BlendedSuggester(keywords, categories, models)
    summary = ("top1_category", "top3_category", "opd", "right_by_either", "without_suggestion")
    before = evaluate(measured, config, keywords)
    after = evaluate(measured, config, blended)
    return {
        "taught": len(taught),
        "measured": len(measured),
        "keywords_only": {k: before[k] for k in summary},
        "with_learning": {k: after[k] for k in summary},
        "confusions_with_learning": after["confusions"],
    }


def evaluate(reports: list[dict], config: Path, suggester: object = None) -> dict:
    from triage.config import CategoryConfig
    from triage.suggest import Suggester

    if suggester is None:
        document = tomllib.loads(config.read_text())
        suggester = Suggester([CategoryConfig(**c) for c in document.get("category", [])])
    top1 = top3 = opd_right = either = none = 0
    confusions: Counter[tuple[str, str]] = Counter()
    misses = []
    for report in reports:
        found = suggester.suggest(report["text"], 3)
        if not found:
            none += 1
            confusions[report["category"], "-"] += 1
            misses.append({"id": report["id"], "want": report["category"], "got": None})
            continue
        first = found[0]
        category_right = first.category == report["category"]
        top1 += category_right
        top3 += report["category"] in [s.category for s in found]
        opd_right += first.opd == report["opd"]
        either += category_right or first.opd == report["opd"]
        if not category_right:
            confusions[report["category"], first.category] += 1
            misses.append(
                {
                    "id": report["id"],
                    "want": report["category"],
                    "got": first.category,
                    "matched": list(first.matched),
                }
            )
    n = len(reports) or 1
    return {
        "reports": len(reports),
        "top1_category": round(top1 / n, 3),
        "top3_category": round(top3 / n, 3),
        "opd": round(opd_right / n, 3),
        "right_by_either": round(either / n, 3),
        "without_suggestion": round(none / n, 3),
        "confusions": [
            {"label": label, "suggested": got, "count": count}
            for (label, got), count in confusions.most_common(10)
        ],
        "misses": misses,
    }


def _use_pysastrawi() -> None:
    """Swap PySastrawi's stemmer in for Kanal's, everywhere the suggester reads stems."""
    from functools import lru_cache

    from Sastrawi.Stemmer.StemmerFactory import StemmerFactory

    import triage.stemmer
    import triage.terms

    sastrawi = StemmerFactory().create_stemmer()
    replacement = lru_cache(maxsize=None)(sastrawi.stem)
    triage.stemmer.stem = replacement
    triage.terms.stem = replacement


def as_text(figures: dict) -> str:
    lines = [
        f"reports                 {figures['reports']}",
        f"top-1 category          {figures['top1_category']:.3f}",
        f"top-3 category          {figures['top3_category']:.3f}",
        f"OPD (first suggestion)  {figures['opd']:.3f}",
        f"right by either label   {figures['right_by_either']:.3f}",
        f"without suggestion      {figures['without_suggestion']:.3f}",
        "most common confusions (label -> suggested):",
    ]
    lines += [f"  {c['count']:3d}  {c['label']} -> {c['suggested']}" for c in figures["confusions"]]
    return "\n".join(lines)


def _run_at_commit(args: argparse.Namespace) -> int:
    """Re-run this script on the suggester and config.toml of `args.commit`."""
    with tempfile.TemporaryDirectory() as tmp:
        for path in (*_MODULES, *_OPTIONAL, "config.toml"):
            shown = subprocess.run(
                ["git", "-C", str(REPO), "show", f"{args.commit}:{path}"],
                capture_output=True,
                text=True,
            )
            if shown.returncode != 0:
                if path in _OPTIONAL:
                    continue
                sys.stderr.write(shown.stderr)
                return 2
            target = Path(tmp, path)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(shown.stdout)
        script = (
            f"import sys; sys.path.insert(0, {tmp!r}); sys.argv = sys.argv[1:];"
            f"exec(compile(open({__file__!r}).read(), {__file__!r}, 'exec'),"
            f" {{'__name__': '__eval__', '__file__': {__file__!r}}})"
        )
        command = [
            sys.executable,
            "-c",
            script,
            "x",
            "--half",
            args.half,
            "--format",
            args.format,
            "--dev-set",
            str(args.dev_set),
            "--config",
            f"{tmp}/config.toml",
        ]
        env = {**os.environ, "PYTHONPATH": tmp}
        return subprocess.run(command, env=env, cwd=tmp).returncode


if __name__ in ("__main__", "__eval__"):
    if __name__ == "__eval__":
        REPO = Path(sys.path[0])  # the extracted commit: its modules come first
    main()
