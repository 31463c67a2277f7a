"""All triage hints for a new report at once, built from the shipped config."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from settings import load_settings
from triage.duplicates import OpenTicket, ReportFacts
from triage.hints import Hinter

REPO = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Asia/Jakarta"))


@pytest.fixture(scope="module")
def hinter() -> Hinter:
    settings = load_settings(REPO / "config.toml")
    return Hinter.from_config(
        settings.triage, settings.category, settings.jurisdiction, settings.region.name, REPO
    )


def test_hints_for_a_repeated_pothole(hinter: Hinter) -> None:
    open_ticket = OpenTicket(
        "LBP-2026-00010", "Jalan di desa Kajen berlubang besar", NOW - timedelta(days=1)
    )
    report = ReportFacts("jalannya berlubang besar pak, di desa Kajen Margoyoso", NOW)
    hints = hinter.hints(report, ["image"], [open_ticket])
    assert [(s.category, s.opd) for s in hints.suggestions] == [("jalan_jembatan", "PUPR")]
    assert hints.jurisdiction.flag is False
    assert hints.jurisdiction.inside == ("Kajen", "Margoyoso")
    assert hints.duplicate is not None and hints.duplicate.number == "LBP-2026-00010"
    assert hints.missing == ()  # a village named counts as the location


def test_hints_for_a_report_from_next_door(hinter: Hinter) -> None:
    report = ReportFacts("Lampu jalan di Jekulo mati semua", NOW)
    hints = hinter.hints(report, [], [], locale="en")
    assert hints.suggestions[0].category == "penerangan_jalan"
    assert hints.jurisdiction.flag is True
    assert hints.jurisdiction.reason == (
        "The report names places outside Kabupaten Pati (Jekulo) and none inside."
    )
    assert hints.duplicate is None
    assert hints.missing == ("photo",)  # the kecamatan named says where, if not whose


@pytest.mark.parametrize(
    ("text", "missing"),
    [
        ("Sampah menumpuk di Juwana", ()),  # a kecamatan of the region is a place
        ("Got mampet di rt 03 rw 02", ()),
        ("Lampu mati di Jl. Kolonel Sunandar", ()),
        ("Pohon tumbang di -6.7421, 111.0527", ()),
        ("Sampah menumpuk di depan rumah", ("location",)),
        ("Sampah menumpuk di Kabupaten Pati", ("location",)),  # the whole regency is no place
    ],
)
def test_location_missing_only_without_a_place(
    hinter: Hinter, text: str, missing: tuple[str, ...]
) -> None:
    assert hinter.hints(ReportFacts(text, NOW), ["image"], []).missing == missing
