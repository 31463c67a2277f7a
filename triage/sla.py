"""Working-day deadlines in the region's time zone, and how waiting for the reporter extends them.

The rules, which the tests pin down:

- A working day is a local date that is not a Saturday or Sunday, not an Indonesian public
  holiday (the `holidays` package) and not one of the configured extra days off (cuti bersama).
- "N working days after t" ends at the end of the Nth working day after t's local date: the day
  of arrival never counts, whatever the hour, and a report that arrives on a day off starts
  counting on the next working day. The end of a day is 23:59:59.999999 local time, so a ticket
  is overdue when now > due. N = 0 means the end of t's day, or of the next working day.
- An elapsed term ("48h") is plain clock time: due = t + 48 hours, weekends included.
- While a ticket waits for the reporter its clock stops. A working-day clock gets back the
  working time (time falling on working days) the wait used, and its new due is rounded up to
  the end of that working day; an elapsed clock gets back the whole wait. A wait that began
  after the due had already passed gives nothing back: it cannot undo a breach.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo

from triage import holiday_table
from triage.config import CategoryConfig, Term, TriageConfig
from triage.messages import render

_SATURDAY = 5
_TICK = timedelta(microseconds=1)


class WorkCalendar:
    """Working days of one region: its time zone, national holidays and extra days off."""

    def __init__(
        self,
        tz: tzinfo,
        extra_days_off: Iterable[date] = (),
        holiday_categories: Iterable[str] = ("public",),
    ) -> None:
        self.tz = tz
        self.extra_days_off = frozenset(extra_days_off)
        self._categories = tuple(holiday_categories)
        self._table = holiday_table.table()

    @classmethod
    def from_config(cls, triage: TriageConfig, timezone: str) -> WorkCalendar:
        return cls(ZoneInfo(timezone), triage.extra_days_off, triage.holiday_categories)

    def is_working_day(self, day: date) -> bool:
        return not (
            day.weekday() >= _SATURDAY
            or day in self.extra_days_off
            or self._holiday(day, "id") is not None
        )

    def _holiday(self, day: date, language: str) -> str | None:
        """The holiday's name, from the table (triage/holiday_table.py), or for a year outside
        it from the `holidays` package itself. The language is fixed by the caller so that
        names do not follow the server's locale."""
        if self._table.covers(day.year):
            return self._table.name(day, self._categories, language)
        return _package_holidays(self._categories, language, day.year).get(day)

    def day_off_reason(self, day: date, locale: str = "id") -> str | None:
        """Why `day` is not a working day, for operators: the holiday's name, or None."""
        name = self._holiday(day, "id" if locale == "id" else "en_US")
        if name is not None:
            return name
        if day in self.extra_days_off:
            return render("operator.day_off.extra", locale)
        return render("operator.day_off.weekend", locale) if day.weekday() >= _SATURDAY else None

    def next_working_day(self, day: date) -> date:
        """`day` itself if it is a working day, else the first working day after it."""
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def start_of(self, day: date) -> datetime:
        return datetime.combine(day, time.min, tzinfo=self.tz)

    def end_of(self, day: date) -> datetime:
        return datetime.combine(day, time.max, tzinfo=self.tz)

    def local_date(self, moment: datetime) -> date:
        return _aware(moment).astimezone(self.tz).date()

    def add_working_days(self, start: datetime, n: int) -> datetime:
        """The end of the Nth working day after `start`'s local date (see the module rules)."""
        if n < 0:
            raise ValueError("n must be >= 0")
        day = self.local_date(start)
        if n == 0:
            return self.end_of(self.next_working_day(day))
        while n:
            day += timedelta(days=1)
            if self.is_working_day(day):
                n -= 1
        return self.end_of(day)

    def due(self, start: datetime, term: Term) -> datetime:
        """When a clock of length `term` started at `start` runs out."""
        if term.working_days is not None:
            return self.add_working_days(start, term.working_days)
        assert term.elapsed is not None
        return _aware(start) + term.elapsed

    def working_time(self, start: datetime, end: datetime) -> timedelta:
        """How much of [start, end) falls on working days."""
        start, end = _aware(start), _aware(end)
        total = timedelta()
        day = self.local_date(start)
        while end > (day_start := self.start_of(day)):
            if self.is_working_day(day):
                day_end = self.start_of(day + timedelta(days=1))
                overlap = min(end, day_end) - max(start, day_start)
                total += max(overlap, timedelta())
            day += timedelta(days=1)
        return total

    def add_working_time(self, start: datetime, amount: timedelta) -> datetime:
        """The moment when `amount` of working time has passed after `start`."""
        moment = _aware(start)
        day = self.local_date(moment)
        while amount > timedelta():
            if self.is_working_day(day):
                begin = max(moment, self.start_of(day))
                available = self.start_of(day + timedelta(days=1)) - begin
                if amount <= available:
                    return begin + amount
                amount -= available
            day += timedelta(days=1)
            moment = self.start_of(day)
        return moment

    def extend_for_pauses(
        self, due: datetime, term: Term, pauses: Sequence[tuple[datetime, datetime]]
    ) -> datetime:
        """`due` moved later by the time the ticket waited for the reporter.

        `pauses` are (waiting since, answered at) pairs, in any order, possibly overlapping; for a
        wait still going on, pass (waiting since, now) to get the due if the answer came now.
        """
        extended = _aware(due)
        for start, end in _merged(pauses):
            if start >= extended:
                break  # already overdue when the wait began
            if term.working_days is None:
                extended += end - start
            else:
                extended = self.add_working_time(extended, self.working_time(start, end))
        if term.working_days is None or extended == due:
            return extended
        return self.end_of(self.next_working_day(self.local_date(extended - _TICK)))


def opd_answer_term(triage: TriageConfig, category: CategoryConfig | None) -> Term:
    """The OPD's answer time: the category's own if it sets one, else `[triage] opd_answer`."""
    if category is not None and category.opd_answer is not None:
        return category.opd_answer
    return triage.opd_answer


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: pass an aware datetime")
    return moment


def _merged(pauses: Sequence[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    spans = sorted((_aware(s), _aware(e)) for s, e in pauses)
    spans = [(start, end) for start, end in spans if end > start]
    merged: list[tuple[datetime, datetime]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


@lru_cache(maxsize=8)
def _package_holidays(categories: tuple[str, ...], language: str, year: int) -> dict[date, str]:
    """A year the table does not hold, as the `holidays` package gives it (imported only then)."""
    import holidays

    found = holidays.country_holidays("ID", categories=categories, language=language, years=year)
    return {day: str(name) for day, name in found.items()}
