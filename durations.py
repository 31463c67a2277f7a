"""Config durations ("90s", "15m", "36h", "3d") read once into a `timedelta`.

A leaf shared by every package's config model, channels included: it imports nothing of ours,
so importing it bends no package rule (like `redaction.py`).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

from pydantic import BeforeValidator

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: object) -> timedelta:
    """Read a config duration such as "90s", "15m", "36h" or "3d" (seconds as a bare number)."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            return timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2)])
    raise ValueError(f'not a duration: {value!r} (write it like "90s", "15m", "36h" or "3d")')


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
