"""The words of a channel's notice (channels.base.Notice: a code and its values) in one language."""

from __future__ import annotations

from collections.abc import Mapping

from texts.catalog import catalog, fill, known_locale


def notice_text(code: str, platform: str, args: Mapping[str, str] | None, locale: str) -> str:
    """The notice `code` as `locale` reads it; `platform` is the channel's name."""
    key = f"notices.{code}"
    template = catalog(known_locale(locale)).get(key)
    if template is None:  # a code this catalog does not know: shown as it is, never hidden
        return f"[{code}]"
    return fill(template, key, {**(args or {}), "platform": platform})
