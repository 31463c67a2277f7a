"""Kanal's stemmer against PySastrawi on the word pairs of bench/triage/stems.tsv.

Each line says whether a keyword's word should hit a report's word ("match") or not ("no").
Three ways of deciding are scored: PySastrawi's root equality, Kanal's root equality, and
Kanal's matching as the suggester does it (a keyword word in a specific derived form, such as
"pekerja" or "kebakaran", hits only that form; any other hits every word with its root).

    .venv/bin/python bench/stem_eval.py [--format json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from Sastrawi.Stemmer.StemmerFactory import StemmerFactory  # noqa: E402

from triage.stemmer import base_form, specific_form, stem  # noqa: E402


def kanal_match(keyword_word: str, report_word: str) -> bool:
    wanted = specific_form(keyword_word) or stem(keyword_word)
    return wanted in {stem(report_word), base_form(report_word)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--format", choices=["text", "json"], default="text")
    args = parser.parse_args()
    sastrawi = StemmerFactory().create_stemmer()
    pairs = []
    for line in (REPO / "bench" / "triage" / "stems.tsv").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            relation, keyword_word, report_word = line.split("\t")
            pairs.append((relation == "match", keyword_word.lower(), report_word.lower()))
    deciders = {
        "pysastrawi root equality": lambda a, b: sastrawi.stem(a) == sastrawi.stem(b),
        "kanal root equality": lambda a, b: stem(a) == stem(b),
        "kanal as matched (specific forms)": kanal_match,
    }
    figures = {}
    for name, decide in deciders.items():
        wrong = [f"{a}/{b}" for want, a, b in pairs if decide(a, b) != want]
        figures[name] = {"right": round(1 - len(wrong) / len(pairs), 3), "wrong": wrong}
    if args.format == "json":
        print(json.dumps({"pairs": len(pairs), **figures}, indent=2))
        return
    print(f"{len(pairs)} word pairs")
    for name, result in figures.items():
        print(f"{name:36s} {result['right']:.3f}  wrong: {', '.join(result['wrong'])}")


if __name__ == "__main__":
    main()
