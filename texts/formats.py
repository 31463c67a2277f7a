"""Numbers, percentages and dates as each language writes them, through Babel (CLDR data)."""

from __future__ import annotations

from datetime import date, datetime, tzinfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal, format_percent

from texts.catalog import catalog, known_locale


def decimal(value: float | None, locale: str, pattern: str | None = None) -> str:
    """ "0,753" in Bahasa Indonesia, "0.753" in English; empty for no value."""
    if value is None:
        return ""
    return format_decimal(value, format=pattern, locale=known_locale(locale))


def percent(share: float, locale: str) -> str:
    """A share of 1 as a percentage: 0.234 is "23%" ("23,4%" with pattern "#,##0.0%")."""
    return format_percent(share, locale=known_locale(locale))


def short_time(moment: datetime, tz: tzinfo, locale: str) -> str:
    """ "23 Nov 2026 09.30 WIB" (English: "23 Nov 2026 09:30 WIB")."""
    return _with_zone(moment.astimezone(tz), "format.short_time", locale)


def due_time(moment: datetime, tz: tzinfo, locale: str) -> str:
    """ "Kamis, 26 November 2026 pukul 23.59 WIB", the way deadlines reach reporters."""
    return _with_zone(moment.astimezone(tz), "format.due", locale)


def clock(moment: datetime, locale: str) -> str:
    """ "09.30 WIB" (English "09:30 WIB") in the moment's own time zone."""
    return _with_zone(moment, "format.clock", locale)


def long_date(day: date, locale: str) -> str:
    """ "Minggu, 22 November 2026" (English "Sunday 22 November 2026")."""
    return format_date(day, _pattern("format.long_date", locale), locale=known_locale(locale))


def month_name(day: date, locale: str) -> str:
    """ "Februari" (English "February"): the full name of the month of `day`."""
    return format_date(day, _pattern("format.month", locale), locale=known_locale(locale))


def _with_zone(local: datetime, key: str, locale: str) -> str:
    # The zone's own abbreviation (WIB, WITA, WIT) rather than CLDR's, which spells out GMT+7.
    text = format_datetime(local, _pattern(key, locale), locale=known_locale(locale))
    return f"{text} {local.tzname() or ''}".rstrip()


def _pattern(key: str, locale: str) -> str:
    return catalog(known_locale(locale))[key]
