"""Working-day deadline arithmetic: weekends, holidays, cuti bersama, month/year ends, pauses."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest
from pydantic import ValidationError

from triage import holiday_table
from triage.config import CategoryConfig, Term, TriageConfig
from triage.sla import WorkCalendar, opd_answer_term

WIB = ZoneInfo("Asia/Jakarta")
CUTI_BERSAMA_2026 = [
    date(2026, 2, 16),
    date(2026, 3, 18),
    date(2026, 3, 20),
    date(2026, 3, 23),
    date(2026, 3, 24),
    date(2026, 5, 15),
    date(2026, 5, 28),
    date(2026, 12, 24),
]


def at(day: str, clock: str = "10:00") -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=WIB)


def end_of(day: str) -> datetime:
    return datetime.combine(date.fromisoformat(day), time.max, tzinfo=WIB)


@pytest.fixture
def plain() -> WorkCalendar:
    return WorkCalendar(WIB)


@pytest.fixture
def pati() -> WorkCalendar:
    return WorkCalendar(WIB, CUTI_BERSAMA_2026)


@pytest.mark.parametrize(
    ("start", "n", "due"),
    [
        (at("2026-11-23"), 3, "2026-11-26"),  # Monday -> Thursday
        (at("2026-11-23", "00:00"), 1, "2026-11-24"),  # arrival day never counts
        (at("2026-11-26"), 3, "2026-12-01"),  # over a weekend and a month end
        (at("2026-11-28"), 3, "2026-12-02"),  # arrival on Saturday starts on Monday
        (at("2026-11-29", "23:59"), 1, "2026-11-30"),  # Sunday night
        (at("2026-11-23"), 0, "2026-11-23"),
        (at("2026-11-28"), 0, "2026-11-30"),
        (at("2026-12-29"), 3, "2027-01-04"),  # year end and New Year's Day
        (at("2026-11-23"), 14, "2026-12-11"),  # the overall clock: 14 working days
        (at("2026-08-14"), 1, "2026-08-18"),  # Independence Day on Monday 17 August
    ],
)
def test_working_days_after(plain: WorkCalendar, start: datetime, n: int, due: str) -> None:
    assert plain.add_working_days(start, n) == end_of(due)


def test_due_uses_the_region_time_zone(plain: WorkCalendar) -> None:
    # Thursday 20:00 UTC is already Friday 03:00 in Jakarta: Friday is the arrival day.
    start = datetime(2026, 11, 26, 20, 0, tzinfo=UTC)
    due = plain.add_working_days(start, 1)
    assert due == end_of("2026-11-30")
    assert due.astimezone(UTC) == datetime(2026, 11, 30, 16, 59, 59, 999999, tzinfo=UTC)


def test_christmas_with_and_without_cuti_bersama(plain: WorkCalendar, pati: WorkCalendar) -> None:
    start = at("2026-12-23")  # Wednesday; Friday 25 December is Christmas Day
    assert plain.add_working_days(start, 3) == end_of("2026-12-29")
    # With 24 December off (cuti bersama from config) the third working day moves a day later.
    assert pati.add_working_days(start, 3) == end_of("2026-12-30")
    assert pati.day_off_reason(date(2026, 12, 24)) == "cuti bersama / libur daerah"
    assert pati.day_off_reason(date(2026, 12, 24), "en") == "collective leave / local day off"
    assert plain.day_off_reason(date(2026, 12, 25)) == "Hari Raya Natal"
    assert plain.day_off_reason(date(2026, 12, 25), "en") == "Christmas Day"
    assert plain.day_off_reason(date(2026, 3, 21)) == "Hari Raya Idul Fitri"
    assert plain.day_off_reason(date(2026, 12, 26)) == "akhir pekan"
    assert plain.day_off_reason(date(2026, 12, 28)) is None


def test_idul_fitri_2026(plain: WorkCalendar, pati: WorkCalendar) -> None:
    start = at("2026-03-17")  # Tuesday before Nyepi (19 March) and Idul Fitri (21-22 March)
    assert plain.add_working_days(start, 3) == end_of("2026-03-23")
    # Cuti bersama 18, 20, 23 and 24 March close the offices for the whole week after.
    assert pati.add_working_days(start, 3) == end_of("2026-03-27")
    assert not pati.is_working_day(date(2026, 3, 19))
    assert pati.is_working_day(date(2026, 3, 25))


def test_government_category_brings_the_packages_cuti_bersama() -> None:
    calendar = WorkCalendar(WIB, holiday_categories=("public", "government"))
    assert calendar.add_working_days(at("2026-03-17"), 3) == end_of("2026-03-27")
    assert not calendar.is_working_day(date(2026, 12, 24))


def test_calendar_from_config() -> None:
    triage = TriageConfig.model_validate({"extra_days_off": ["2026-12-24"]})
    calendar = WorkCalendar.from_config(triage, "Asia/Jakarta")
    assert calendar.due(at("2026-12-23"), triage.verify_within) == end_of("2026-12-30")
    # 5 January 2027 is Isra' Mi'raj.
    assert calendar.due(at("2026-12-23"), triage.opd_answer) == end_of("2027-01-07")
    assert calendar.due(at("2026-12-23"), triage.resolve_within) == end_of("2027-01-18")


def test_elapsed_terms_count_weekends(plain: WorkCalendar) -> None:
    term = Term.model_validate("48h")
    assert plain.due(at("2026-11-27"), term) == at("2026-11-29")  # Friday 10:00 -> Sunday 10:00


def test_naive_datetimes_are_refused(plain: WorkCalendar) -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        plain.add_working_days(datetime(2026, 11, 23, 10, 0), 3)


# --- pausing while the ticket waits for the reporter ---------------------------------------


def test_waiting_moves_a_working_day_due(plain: WorkCalendar) -> None:
    term = Term(working_days=3)
    due = plain.due(at("2026-11-23"), term)  # end of Thursday 26 November
    # Waited from Monday 11:00 to Wednesday 09:00: 46 hours of working days, about two days.
    pauses = [(at("2026-11-23", "11:00"), at("2026-11-25", "09:00"))]
    assert plain.extend_for_pauses(due, term, pauses) == end_of("2026-11-30")


def test_a_short_wait_rounds_up_to_the_end_of_a_working_day(plain: WorkCalendar) -> None:
    term = Term(working_days=3)
    due = plain.due(at("2026-11-23"), term)
    pauses = [(at("2026-11-24", "10:00"), at("2026-11-24", "12:00"))]
    assert plain.extend_for_pauses(due, term, pauses) == end_of("2026-11-27")


def test_waiting_over_a_weekend_gives_nothing_back(plain: WorkCalendar) -> None:
    term = Term(working_days=3)
    due = plain.due(at("2026-11-26"), term)  # end of Tuesday 1 December
    pauses = [(at("2026-11-28", "08:00"), at("2026-11-29", "20:00"))]
    assert plain.extend_for_pauses(due, term, pauses) == due


def test_waiting_after_the_due_does_not_undo_a_breach(plain: WorkCalendar) -> None:
    term = Term(working_days=1)
    due = plain.due(at("2026-11-23"), term)  # end of Tuesday 24 November
    pauses = [(at("2026-11-25", "09:00"), at("2026-11-27", "09:00"))]
    assert plain.extend_for_pauses(due, term, pauses) == due


def test_overlapping_waits_count_once(plain: WorkCalendar) -> None:
    term = Term(working_days=3)
    due = plain.due(at("2026-11-23"), term)
    once = [(at("2026-11-24", "00:00"), at("2026-11-25", "00:00"))]
    twice = [
        (at("2026-11-24", "12:00"), at("2026-11-25", "00:00")),
        (at("2026-11-24", "00:00"), at("2026-11-24", "18:00")),
    ]
    assert plain.extend_for_pauses(due, term, once) == end_of("2026-11-27")
    assert plain.extend_for_pauses(due, term, twice) == end_of("2026-11-27")


def test_waiting_across_holidays_and_year_end(pati: WorkCalendar) -> None:
    term = Term(working_days=3)
    due = pati.due(at("2026-12-22"), term)  # 23, 28, 29 December (24 and 25 off)
    assert due == end_of("2026-12-29")
    # Waited from 23 December 10:00 to 28 December 10:00: 14 + 10 working hours = one day.
    pauses = [(at("2026-12-23"), at("2026-12-28"))]
    assert pati.extend_for_pauses(due, term, pauses) == end_of("2026-12-30")
    # 14h on the 23rd, 28-30 whole, 10h on the 31st: four working days, so the due runs
    # through 30 and 31 December, 4 January, skips Isra' Mi'raj (5 January), ends on the 6th.
    long = [(at("2026-12-23"), at("2026-12-31"))]
    assert pati.extend_for_pauses(due, term, long) == end_of("2027-01-06")


def test_waiting_moves_an_elapsed_due_by_the_whole_wait(plain: WorkCalendar) -> None:
    term = Term.model_validate("24h")
    due = plain.due(at("2026-11-27"), term)  # Saturday 10:00
    pauses = [(at("2026-11-27", "12:00"), at("2026-11-28", "08:00"))]
    assert plain.extend_for_pauses(due, term, pauses) == due + timedelta(hours=20)


def test_working_time_counts_only_working_days(plain: WorkCalendar) -> None:
    assert plain.working_time(at("2026-11-27", "12:00"), at("2026-11-30", "06:00")) == timedelta(
        hours=18
    )
    assert plain.add_working_time(at("2026-11-27", "12:00"), timedelta(hours=18)) == at(
        "2026-11-30", "06:00"
    )


# --- terms in config --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "working_days", "elapsed"),
    [
        ("3wd", 3, None),
        (" 14wd ", 14, None),
        ("3d", None, timedelta(days=3)),  # elapsed, as in every other key
        ("2w", None, timedelta(weeks=2)),
        ("48h", None, timedelta(hours=48)),
        ("90m", None, timedelta(minutes=90)),
    ],
)
def test_term_parsing(text: str, working_days: int | None, elapsed: timedelta | None) -> None:
    term = Term.model_validate(text)
    assert (term.working_days, term.elapsed) == (working_days, elapsed)


@pytest.mark.parametrize("text", ["1.5wd", "3 wdays", "soon", "-3d"])
def test_bad_terms_are_refused(text: str) -> None:
    with pytest.raises(ValidationError, match="not a deadline"):
        Term.model_validate(text)


def test_term_prints_as_written() -> None:
    assert str(Term.model_validate("7wd")) == "7wd"
    assert str(Term.model_validate("48h")) == "48h"


def test_category_overrides_the_opd_answer_time() -> None:
    triage = TriageConfig()
    water = CategoryConfig(code="air", name="Air bersih", opd_answer="48h")
    roads = CategoryConfig(code="jalan", name="Jalan")
    assert opd_answer_term(triage, water) == Term(elapsed=timedelta(hours=48))
    assert opd_answer_term(triage, roads) == Term(working_days=7)
    assert opd_answer_term(triage, None) == Term(working_days=7)


def test_the_holiday_table_is_what_the_pinned_holidays_package_says() -> None:
    """triage/holiday_table.json mirrors the package for every year, category and language it
    holds; after changing the pin, write it again with `python -m triage.holiday_table`."""
    written = holiday_table.table()
    assert written.source == f"holidays {holidays.__version__}"
    assert holiday_table.computed() == json.loads(holiday_table.TABLE.read_text(encoding="utf-8"))


def test_a_year_outside_the_table_asks_the_package() -> None:
    both = WorkCalendar(ZoneInfo("Asia/Jakarta"), holiday_categories=("public", "government"))
    last = holiday_table.table().last_year
    assert not holiday_table.table().covers(last + 5)
    christmas = date(last + 5, 12, 25)
    assert both.day_off_reason(christmas) == "Hari Raya Natal"
    assert both.day_off_reason(christmas, "en") == "Christmas Day"
    assert not both.is_working_day(christmas) and both.is_working_day(date(last + 5, 12, 28))
