"""Every text Kanal sends to reporters (and the triage hints operators read), from the catalog."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, tzinfo
from typing import Any

from texts import catalog
from texts.catalog import LOCALES, MissingValue
from texts.formats import due_time

__all__ = ["LOCALES", "MESSAGES", "MissingValue", "clarification", "format_due", "render"]

# key -> locale -> template, from the "messages" part of texts/<locale>.toml. Placeholders:
# {number} ticket number, {region} e.g. "Kabupaten Pati", {opd} department name, {deadline} a
# date from format_due, {original} the ticket a duplicate was merged into, {items} the list built
# by clarification(), {places}, {score}, {links} the lines naming the files of a message with
# their addresses, {names} the files' names.
_BY_LOCALE = {locale: catalog.section("messages", locale) for locale in LOCALES}
MESSAGES: Mapping[str, Mapping[str, str]] = {
    key: {locale: _BY_LOCALE[locale][key] for locale in LOCALES} for key in _BY_LOCALE["id"]
}


def placeholders(key: str, locale: str = "id") -> frozenset[str]:
    """The names a template needs."""
    return catalog.placeholders(_template(key, locale))


def render(key: str, locale: str = "id", **values: Any) -> str:
    """The text of `key` in `locale` with its placeholders filled; extra values are ignored."""
    return catalog.fill(_template(key, locale), f"message {key!r}", values)


def clarification(facts: Sequence[str], locale: str = "id", **values: Any) -> str:
    """One request for all of `facts` ("location", "photo", "supporting_data", "event_time")."""
    if not facts:
        raise ValueError("no facts to ask for")
    items = "\n".join(f"{i}. {render('clarify.' + f, locale)}" for i, f in enumerate(facts, 1))
    return render("clarify", locale, **values, items=items)


def format_due(moment: datetime, tz: tzinfo, locale: str = "id") -> str:
    """A deadline as reporters read it: "Kamis, 26 November 2026 pukul 23.59 WIB"."""
    return due_time(moment, tz, locale)


def _template(key: str, locale: str) -> str:
    if locale not in LOCALES:
        raise ValueError(f"unknown locale {locale!r} (known: {', '.join(LOCALES)})")
    try:
        return MESSAGES[key][locale]
    except KeyError:
        raise KeyError(f"no message {key!r}") from None
