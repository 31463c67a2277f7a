"""Config durations: elapsed time ("90s", "15m", "36h", "3d" = 72 hours) read once into a
`timedelta`, and the working-day unit ("3wd") that only deadlines take.

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
_WORKING_DAYS = re.compile(r"^\s*(\d+)\s*wd\s*$")
_BARE_DAYS = re.compile(r"^\s*(\d+)\s*d\s*$")


def parse_duration(value: object) -> timedelta:
    """Read an elapsed duration such as "90s", "15m", "36h" or "3d" (seconds as a bare number)."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            return timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2)])
        if _WORKING_DAYS.match(value):
            raise ValueError(
                f"{value!r}: working days count only in deadlines; "
                f'write "{value.strip()[:-2]}d" for elapsed days'
            )
    raise ValueError(f'not a duration: {value!r} (write it like "90s", "15m", "36h" or "3d")')


def working_days(value: object) -> int | None:
    """The number of a "3wd" (whole working days), or None for anything else."""
    match = _WORKING_DAYS.match(value) if isinstance(value, str) else None
    return int(match.group(1)) if match else None


def bare_days(value: object) -> int | None:
    """The number of a "3d", which deadlines once read as working days (see triage.config)."""
    match = _BARE_DAYS.match(value) if isinstance(value, str) else None
    return int(match.group(1)) if match else None


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
