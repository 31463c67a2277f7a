"""Text made storable on both databases: no NUL, no lone surrogates, nothing else changed."""

from __future__ import annotations

import re
from typing import Any

REPLACEMENT = "\ufffd"
# NUL is refused by PostgreSQL's text; a lone surrogate cannot be encoded as UTF-8 at all.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable_text(value: str) -> str:
    """`value` with NUL removed and every lone surrogate replaced by U+FFFD."""
    if not _UNSTORABLE.search(value):
        return value
    # A well-formed pair cannot occur in a Python str; surrogates here are always lone.
    return _UNSTORABLE.sub(lambda m: "" if m.group() == "\x00" else REPLACEMENT, value)


def storable_or_none(value: str | None) -> str | None:
    return None if value is None else storable_text(value)


def is_storable(value: Any) -> bool:
    return isinstance(value, str) and _UNSTORABLE.search(value) is None
