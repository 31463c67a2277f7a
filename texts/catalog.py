"""Look-up in the text catalog, texts/<locale>.toml: dotted keys, `str.format` placeholders."""

from __future__ import annotations

import string
import tomllib
from collections.abc import Mapping
from functools import cache
from importlib.resources import files
from typing import Any

LOCALES = ("id", "en")
DEFAULT_LOCALE = "id"


class MissingValue(KeyError):
    """A text needs a placeholder value the caller did not give."""


def known_locale(locale: str | None) -> str:
    """`locale` if the catalog has it, else Bahasa Indonesia."""
    return locale if locale in LOCALES else DEFAULT_LOCALE


@cache
def catalog(locale: str) -> Mapping[str, str]:
    """Every text of `locale`, by dotted key ("inbox.nav.queue", "messages.received", ...)."""
    if locale not in LOCALES:
        raise ValueError(f"unknown locale {locale!r} (known: {', '.join(LOCALES)})")
    with files("texts").joinpath(f"{locale}.toml").open("rb") as file:
        return _flatten(tomllib.load(file), "")


def section(prefix: str, locale: str) -> dict[str, str]:
    """The texts under `prefix` ("notifier"), keyed without it ("stage.resolved")."""
    start = prefix + "."
    return {k.removeprefix(start): v for k, v in catalog(locale).items() if k.startswith(start)}


def placeholders(template: str) -> frozenset[str]:
    """The names `template` needs filled."""
    return frozenset(name for _, name, _, _ in string.Formatter().parse(template) if name)


def fill(template: str, name: str, values: Mapping[str, Any]) -> str:
    """`template` with its placeholders filled; a missing value is reported as `name` needs it."""
    missing = sorted(placeholders(template) - values.keys())
    if missing:
        raise MissingValue(f"{name} needs {', '.join(missing)}")
    return template.format(**values)


def _flatten(table: Mapping[str, Any], prefix: str) -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in table.items():
        if isinstance(value, Mapping):
            flat |= _flatten(value, f"{prefix}{key}.")
        elif isinstance(value, str):
            flat[prefix + key] = value
        else:
            raise TypeError(f"text {prefix + key!r} is not a string")
    return flat
