"""Texts for staff from the Jinja2 templates in notifier/templates/<locale>/.

A template sets its subject with `{% set subject = ... %}`; its output is the body. Words shared by
several templates (day and month names, statuses, reasons) are in labels.toml; channel names
come from channels/registry.py.
`.html.j2` and `.tg.j2` (Telegram's HTML subset) are autoescaped, `.txt.j2` is not.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from channels.registry import CHANNELS

TEMPLATES = Path(__file__).resolve().parent / "templates"
LOCALES = ("id", "en")


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


@cache
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html.j2", "tg.j2"), default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return env


@cache
def labels(locale: str) -> dict[str, Any]:
    if locale not in LOCALES:
        raise ValueError(f"unknown locale {locale!r} (known: {', '.join(LOCALES)})")
    with (TEMPLATES / locale / "labels.toml").open("rb") as file:
        words = tomllib.load(file)
    # Channel names come from the registry, like the inbox's.
    words["channel"] = {name: spec.label(locale) for name, spec in CHANNELS.items()}
    return words


def render(name: str, locale: str, tz: tzinfo, **values: Any) -> Rendered:
    """Render `<locale>/<name>` (e.g. "digest.txt.j2") with `values`."""
    words = labels(locale)
    template = _environment().get_template(f"{locale}/{name}")
    context = {
        "L": words,
        "longdate": lambda d: long_date(d, words),
        "local": lambda moment: moment.astimezone(tz),
        "clock": lambda moment: clock_time(moment.astimezone(tz), words),
        "hours": lambda x: hours(x, words),
        **values,
    }
    module = template.make_module(context)
    subject = str(getattr(module, "subject", "")).strip()
    return Rendered(subject=subject, body=str(module).strip() + "\n")


def long_date(day: date | datetime, words: dict[str, Any]) -> str:
    """ "Minggu, 22 November 2026" / "Sunday 22 November 2026"."""
    weekday = words["days"][day.weekday()]
    month = words["months"][day.month - 1]
    return words["date_format"].format(weekday=weekday, day=day.day, month=month, year=day.year)


def clock_time(moment: datetime, words: dict[str, Any]) -> str:
    return (
        words["time_format"]
        .format(
            hour=f"{moment.hour:02d}", minute=f"{moment.minute:02d}", zone=moment.tzname() or ""
        )
        .strip()
    )


def hours(value: float | None, words: dict[str, Any]) -> str:
    if value is None:
        return words["no_value"]
    text = f"{value:.1f}"
    if words["decimal_comma"]:
        text = text.replace(".", ",")
    return words["hours_format"].format(hours=text)
