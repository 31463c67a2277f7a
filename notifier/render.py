"""Texts for staff from the Jinja2 templates in notifier/templates/<locale>/.

A template sets its subject with `{% set subject = ... %}`; its output is the body. Words shared by
several templates (stages, reasons) are the catalog's "notifier" texts (texts/<locale>.toml),
channel names come from channels/registry.py; dates and numbers are written per locale by
texts.formats. `.html.j2` and `.tg.j2` (Telegram's HTML subset) are autoescaped, `.txt.j2` is not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from channels.registry import CHANNELS
from texts import formats
from texts.catalog import LOCALES, section

TEMPLATES = Path(__file__).resolve().parent / "templates"


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
    """The shared words as templates read them: `L.no_value`, `L.stage.resolved`, `L.channel.x`."""
    if locale not in LOCALES:
        raise ValueError(f"unknown locale {locale!r} (known: {', '.join(LOCALES)})")
    words: dict[str, Any] = {}
    for key, text in section("notifier", locale).items():
        group, _, name = key.partition(".")
        if name:
            words.setdefault(group, {})[name] = text
        else:
            words[group] = text
    # Channel names come from the registry, like the inbox's.
    words["channel"] = {name: spec.label(locale) for name, spec in CHANNELS.items()}
    return words


def render(name: str, locale: str, tz: tzinfo, **values: Any) -> Rendered:
    """Render `<locale>/<name>` (e.g. "digest.txt.j2") with `values`."""
    words = labels(locale)
    template = _environment().get_template(f"{locale}/{name}")
    context = {
        "L": words,
        "longdate": lambda d: formats.long_date(d, locale),
        "month": lambda d: formats.month_name(d, locale),
        "local": lambda moment: moment.astimezone(tz),
        "clock": lambda moment: formats.clock(moment.astimezone(tz), locale),
        "hours": lambda x: hours(x, locale),
        "decimal": lambda x: "-" if x is None else formats.decimal(x, locale, "0.0#"),
        **values,
    }
    module = template.make_module(context)
    subject = str(getattr(module, "subject", "")).strip()
    return Rendered(subject=subject, body=str(module).strip() + "\n")


def hours(value: float | None, locale: str) -> str:
    """ "26,2 jam" / "26.2 h"; the catalog's no-value mark when there is none."""
    words = labels(locale)
    if value is None:
        return words["no_value"]
    return words["hours"].format(hours=formats.decimal(value, locale, "0.0"))
