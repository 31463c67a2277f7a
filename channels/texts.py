"""A channel's own words (placeholders, refusals, greetings), read from the text catalog's data.

Channels import no code of ours outside channels/, so they read the catalog's TOML files (package
data of `texts`) themselves: the table `[channels.<name>]` of texts/<locale>.toml.
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib.resources import files

LOCALES = ("id", "en")


def channel_texts(name: str, locale: str = "id") -> dict[str, str]:
    """The texts of channel `name` in `locale`, by key ("unsupported_type", ...)."""
    return dict(_channels(locale)[name])


def channel_texts_by_locale(name: str) -> dict[str, dict[str, str]]:
    """The texts of channel `name` as key -> locale -> text, for a channel that answers in the
    reporter's language."""
    by_locale = {locale: channel_texts(name, locale) for locale in LOCALES}
    return {key: {locale: by_locale[locale][key] for locale in LOCALES} for key in by_locale["id"]}


@cache
def _channels(locale: str) -> dict[str, dict[str, str]]:
    with files("texts").joinpath(f"{locale}.toml").open("rb") as file:
        return tomllib.load(file)["channels"]
