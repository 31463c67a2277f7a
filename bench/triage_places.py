"""Jurisdiction and "location missing" on the labelled dev set bench/triage/places.jsonl.

Each line is a report written in the style of real ones, labelled with `in_region` (true, false,
or null when the text does not say) and `location_given`; `location` is a shared map point.
The hints come from the shipped config.toml through the same call intake's assessment makes.

    .venv/bin/python bench/triage_places.py [--verbose] [--config config.toml]

Prints out-of-region precision and recall, the reports of the region wrongly flagged outside,
"location missing" precision and recall, and the time and memory it took to build the index.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from settings import load_settings  # noqa: E402
from triage.duplicates import ReportFacts  # noqa: E402
from triage.gazetteer import Gazetteer  # noqa: E402
from triage.hints import Hinter  # noqa: E402

DEV_SET = REPO / "bench" / "triage" / "places.jsonl"
NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


def _rss_mb() -> float:
    """Resident memory of this process (Linux), in MB."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _ratio(a: int, b: int) -> str:
    return f"{a / b:.2f} ({a}/{b})" if b else "n/a (0/0)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=REPO / "config.toml")
    parser.add_argument("--dev-set", type=Path, default=DEV_SET)
    parser.add_argument("--verbose", action="store_true", help="print every wrong answer")
    args = parser.parse_args()

    before = _rss_mb()
    started = time.perf_counter()
    gazetteer = Gazetteer.national()  # the national index, built once per process
    index_s = time.perf_counter() - started
    index_mb = _rss_mb() - before
    print(
        f"national index: {len(gazetteer.areas)} areas in {index_s * 1000:.0f} ms, "
        f"+{index_mb:.1f} MB resident"
    )
    settings = load_settings(args.config)
    before = _rss_mb()
    started = time.perf_counter()
    hinter = Hinter.from_config(
        settings.triage,
        settings.category,
        settings.jurisdiction,
        settings.region.name,
        args.config.parent,
    )
    build_s = time.perf_counter() - started
    build_mb = _rss_mb() - before

    cases = [json.loads(line) for line in args.dev_set.read_text().splitlines() if line.strip()]
    flagged_out = true_out = caught_out = 0
    ours = ours_flagged = 0
    said_missing = truly_missing = rightly_missing = 0
    started = time.perf_counter()
    for n, case in enumerate(cases, 1):
        location = tuple(case["location"]) if case.get("location") else None
        hints = hinter.hints(ReportFacts(case["text"], NOW, location), ["image"], [])
        flag = hints.jurisdiction.flag
        missing = "location" in hints.missing
        outside = case["in_region"] is False
        flagged_out += flag
        true_out += outside
        caught_out += flag and outside
        if case["in_region"] is True:
            ours += 1
            ours_flagged += flag
        said_missing += missing
        truly_missing += not case["location_given"]
        rightly_missing += missing and not case["location_given"]
        wrong = flag != outside or missing == case["location_given"]
        if args.verbose and wrong:
            print(
                f"line {n}: flag={flag} (want {not case['in_region'] if outside else False}), "
                f"missing={missing} (want {not case['location_given']}): {case['text']}\n"
                f"    inside={hints.jurisdiction.inside} outside={hints.jurisdiction.outside}"
            )
    per_report_ms = (time.perf_counter() - started) / len(cases) * 1000

    print(f"dev set: {len(cases)} reports ({args.dev_set.relative_to(REPO)})")
    print(f"out-of-region precision: {_ratio(caught_out, flagged_out)}")
    print(f"out-of-region recall:    {_ratio(caught_out, true_out)}")
    print(f"false 'outside' on reports of the region: {_ratio(ours_flagged, ours)}")
    print(f"location-missing precision: {_ratio(rightly_missing, said_missing)}")
    print(f"location-missing recall:    {_ratio(rightly_missing, truly_missing)}")
    print(f"hinter build (on the index): {build_s * 1000:.0f} ms, +{build_mb:.1f} MB resident")
    print(f"hints per report: {per_report_ms:.2f} ms")


if __name__ == "__main__":
    main()
