"""The words of the staff pages (the catalog's "inbox" part of texts/<locale>.toml) and dates."""

from __future__ import annotations

from datetime import datetime, tzinfo
from functools import cache

from channels.registry import CHANNELS, channel_label
from texts.catalog import known_locale, section
from texts.formats import due_time
from texts.formats import short_time as _short_time
from texts.notices import notice_text

__all__ = ["known_locale", "long_time", "notice", "short_time", "texts", "translate"]

CHANNEL_PREFIX = "channel."


def texts(locale: str) -> dict[str, str]:
    """Every staff-page text of `locale` (unknown locales read Indonesian), by key."""
    return _texts(known_locale(locale))


@cache
def _texts(locale: str) -> dict[str, str]:
    # Channel names come from the registry, so a new channel brings its own.
    labels = {f"{CHANNEL_PREFIX}{name}": spec.label(locale) for name, spec in CHANNELS.items()}
    return section("inbox", locale) | labels


def translate(key: str, locale: str, **values: object) -> str:
    """The text of `key` in `locale` (falling back to Indonesian), placeholders filled."""
    text = texts(locale).get(key)
    if text is None and key.startswith(CHANNEL_PREFIX):
        # Not a channel the catalog names (like "lapor", imported history): a registered one,
        # and an unregistered channel fails loudly, never "channel.x".
        return channel_label(key.removeprefix(CHANNEL_PREFIX), known_locale(locale))
    if text is None:
        return key
    return text.format(**values) if values else text


def notice(channel: str, code: str, args: dict[str, str] | None, locale: str) -> str:
    """A channel's notice on a message (channels.base.Notice) in `locale`, with its name."""
    locale = known_locale(locale)
    return notice_text(code, channel_label(channel, locale), args, locale)


def short_time(moment: datetime | None, tz: tzinfo, locale: str) -> str:
    """ "23 Nov 2026 09.30 WIB" in a table cell (English: "23 Nov 2026 09:30 WIB")."""
    return _short_time(moment, tz, locale) if moment else ""


def long_time(moment: datetime | None, tz: tzinfo, locale: str) -> str:
    """ "Senin, 23 November 2026 pukul 09.30 WIB", the reporters' format."""
    return due_time(moment, tz, locale) if moment else ""
