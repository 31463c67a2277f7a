"""The words of the staff pages (the catalog's "inbox" part of texts/<locale>.toml) and dates."""

from __future__ import annotations

from datetime import datetime, tzinfo
from functools import cache

from texts.catalog import known_locale, section
from texts.formats import due_time
from texts.formats import short_time as _short_time

__all__ = ["known_locale", "long_time", "short_time", "texts", "translate"]

# Channel names stay here until the channel registry carries each channel's labels.
# key -> (Bahasa Indonesia, English)
TEXTS: dict[str, tuple[str, str]] = {
    "channel.whatsapp": ("WhatsApp", "WhatsApp"),
    "channel.email": ("Surel", "Email"),
    "channel.instagram": ("Instagram", "Instagram"),
    "channel.facebook": ("Facebook", "Facebook"),
    "channel.x": ("X", "X"),
    "channel.telegram": ("Telegram", "Telegram"),
}


def texts(locale: str) -> dict[str, str]:
    """Every staff-page text of `locale` (unknown locales read Indonesian), by key."""
    return _texts(known_locale(locale))


@cache
def _texts(locale: str) -> dict[str, str]:
    index = 1 if locale == "en" else 0
    return section("inbox", locale) | {key: pair[index] for key, pair in TEXTS.items()}


def translate(key: str, locale: str, **values: object) -> str:
    """The text of `key` in `locale` (falling back to Indonesian), placeholders filled."""
    text = texts(locale).get(key)
    if text is None:
        return key
    return text.format(**values) if values else text


def short_time(moment: datetime | None, tz: tzinfo, locale: str) -> str:
    """ "23 Nov 2026 09.30 WIB" in a table cell (English: "23 Nov 2026 09:30 WIB")."""
    return _short_time(moment, tz, locale) if moment else ""


def long_time(moment: datetime | None, tz: tzinfo, locale: str) -> str:
    """ "Senin, 23 November 2026 pukul 09.30 WIB", the reporters' format."""
    return due_time(moment, tz, locale) if moment else ""
