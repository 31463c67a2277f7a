"""Typed reads of a platform's JSON at the edge: a field of the wrong type, an id too long for
its column or an integer out of range raises `Unreadable` with the reason, which the parsers
turn into a record kept as unreadable, never into an exception past the channel."""

from __future__ import annotations

import math
import re
from typing import Any

# Column widths the ids end up in (store/models.py): external and reply ids, sender ids.
ID_LENGTH = 512
SENDER_LENGTH = 320
NAME_LENGTH = 320
MAX_SIZE = 2**31 - 1  # a file size in bytes, as the database's INTEGER holds it
# An id with NUL or a lone surrogate cannot be stored as it was sent, and no platform sends one.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class Unreadable(ValueError):
    """A field of a platform payload is not what the platform documents."""


def obj(parent: dict[str, Any], key: str) -> dict[str, Any]:
    """An object; {} when absent or null."""
    value = parent.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Unreadable(f"{key!r} is {_kind(value)}, not an object")
    return value


def array(parent: dict[str, Any], key: str) -> list[Any]:
    """A list; [] when absent or null."""
    value = parent.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise Unreadable(f"{key!r} is {_kind(value)}, not a list")
    return value


def text(parent: dict[str, Any], key: str, default: str = "") -> str:
    """Text; `default` when absent or null."""
    value = parent.get(key)
    if value is None:
        return default
    if not isinstance(value, str):
        raise Unreadable(f"{key!r} is {_kind(value)}, not text")
    return value


def opt_text(parent: dict[str, Any], key: str, limit: int | None = None) -> str | None:
    """Text or None (also for ""); longer than `limit` is unreadable."""
    value = text(parent, key) or None
    if value is not None and limit is not None and len(value) > limit:
        raise Unreadable(f"{key!r} is {len(value)} characters long, more than {limit}")
    return value


def ident(parent: dict[str, Any], key: str, limit: int = ID_LENGTH) -> str:
    """A required id: text or a whole number, at most `limit` characters."""
    found = opt_ident(parent, key, limit)
    if found is None:
        raise Unreadable(f"{key!r} is missing")
    return found


def opt_ident(parent: dict[str, Any], key: str, limit: int = ID_LENGTH) -> str | None:
    """An id as text, or None when absent, null or empty."""
    value = parent.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise Unreadable(f"{key!r} is {_kind(value)}, not an id")
    found = str(value)
    if len(found) > limit:
        raise Unreadable(f"{key!r} is {len(found)} characters long, more than {limit}")
    if _UNSTORABLE.search(found):
        raise Unreadable(f"{key!r} holds NUL or a lone surrogate")
    return found


def integer(parent: dict[str, Any], key: str, low: int = 0, high: int = MAX_SIZE) -> int | None:
    """A whole number within [low, high], or None when absent or null."""
    value = parent.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise Unreadable(f"{key!r} is {_kind(value)}, not a whole number")
    if not low <= value <= high:
        raise Unreadable(f"{key!r} is {value}, outside {low}..{high}")
    return value


def coordinate(parent: dict[str, Any], key: str, bound: float) -> float:
    """A required latitude (bound 90) or longitude (bound 180); a numeric string is accepted."""
    value = parent.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise Unreadable(f"{key!r} is {_kind(value)}, not a number")
    try:
        number = float(value)
    except (ValueError, OverflowError) as exc:
        raise Unreadable(f"{key!r} is not a number") from exc
    if not math.isfinite(number) or abs(number) > bound:
        raise Unreadable(f"{key!r} is {number}, outside ±{bound}")
    return number


def _kind(value: Any) -> str:
    kinds = {dict: "an object", list: "a list", str: "text", bool: "a boolean"}
    kinds |= {int: "a number", float: "a number"}
    return kinds.get(type(value), "null" if value is None else f"a {type(value).__name__}")


def reason(exc: BaseException) -> str:
    """Why a part was unreadable: our own reason as it is, any other error with its type."""
    return str(exc) if isinstance(exc, Unreadable) else repr(exc)
