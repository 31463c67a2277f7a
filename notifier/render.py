"""Texts for staff from the Jinja2 templates in notifier/templates/, one per message and format.

A template holds the layout and no words: the locale only picks the words, the catalog's
"notifier" texts (texts/<locale>.toml). A template reads plain words as `L.stage.resolved` and
fills a sentence with values as `T("digest.closing", number=..., time=...)`, so each language keeps
its own word order. Channel names come from channels/registry.py; dates and numbers are written
per locale by texts.formats. A template sets its subject with `{% set subject = ... %}`; its
output is the body. `.html.j2` and `.tg.j2` (Telegram's HTML subset) are autoescaped, `.txt.j2` is
not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    pass_eval_context,
    select_autoescape,
)
from jinja2.nodes import EvalContext
from markupsafe import escape

from channels.registry import CHANNELS
from texts import formats
from texts.catalog import LOCALES, fill, section

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
    # Channels without a live registry entry ("lapor", imported history) come from the
    # inbox's part of the catalog.
    imported = {
        key.removeprefix("channel."): text
        for key, text in section("inbox", locale).items()
        if key.startswith("channel.")
    }
    words["channel"] = imported | {name: spec.label(locale) for name, spec in CHANNELS.items()}
    return words


def sentences(locale: str) -> Any:
    """`T(key, **values)` for templates: the catalog's "notifier" text `key` with its placeholders
    filled. In an autoescaped template the sentence and the values are escaped (values already
    markup, such as `"1&ndash;"|safe ~ 6`, are kept), so the result is safe to print as is."""
    texts = section("notifier", locale)

    @pass_eval_context
    def sentence(eval_context: EvalContext, key: str, **values: Any) -> str:
        if key not in texts:
            raise KeyError(f"texts/{locale}.toml has no [notifier] text {key!r}")
        text = escape(texts[key]) if eval_context.autoescape else texts[key]
        return fill(text, f"notifier text {key!r}", values)

    return sentence


def render(name: str, locale: str, tz: tzinfo, **values: Any) -> Rendered:
    """Render template `name` (e.g. "digest.txt.j2") in `locale`'s words with `values`."""
    words = labels(locale)
    template = _environment().get_template(name)
    context = {
        "locale": locale,
        "L": words,
        "T": sentences(locale),
        "longdate": lambda d: formats.long_date(d, locale),
        "month": lambda d: formats.month_name(d, locale),
        "local": lambda moment: moment.astimezone(tz),
        "clock": lambda moment: formats.clock(moment.astimezone(tz), locale),
        "hours": lambda x: hours(x, locale),
        "decimal": lambda x: "-" if x is None else formats.decimal(x, locale, "0.0#"),
        "percent": lambda x: "-" if x is None else formats.percent(x, locale),
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
