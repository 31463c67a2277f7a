"""The `[triage]`, `[[opd]]`, `[[category]]` and `[jurisdiction]` tables of config.toml."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from durations import Duration, parse_duration

_CODE = r"^[A-Za-z][A-Za-z0-9_-]{0,31}$"
_WORKING_DAYS = re.compile(r"^\s*(\d+)\s*d\s*$")


class Term(BaseModel):
    """How long a clock runs: whole working days ("3d") or elapsed time ("48h", "90m").

    In a deadline, "d" means working days (weekends and days off do not count) because that is
    how Indonesian service standards are written; hours, minutes and seconds are elapsed time,
    as in Kota Jambi's 24/48/72-hour targets. Write "168h" for seven calendar days.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    working_days: int | None = Field(default=None, ge=0)
    elapsed: Duration | None = None

    @model_validator(mode="before")
    @classmethod
    def _parse(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        match = _WORKING_DAYS.match(value)
        if match:
            return {"working_days": int(match.group(1))}
        if value.strip().endswith(("d", "w")):
            raise ValueError(f'not a deadline: {value!r} (working days are whole: write "3d")')
        try:
            return {"elapsed": parse_duration(value)}
        except ValueError:
            raise ValueError(
                f'not a deadline: {value!r} (write "3d" for working days or "48h" for hours)'
            ) from None

    @model_validator(mode="after")
    def _one_kind(self) -> Term:
        if (self.working_days is None) == (self.elapsed is None):
            raise ValueError("give either working_days or elapsed")
        return self

    def __str__(self) -> str:
        if self.working_days is not None:
            return f"{self.working_days}d"
        assert self.elapsed is not None
        return f"{self.elapsed.total_seconds() / 3600:g}h"


def working_days(n: int) -> Term:
    return Term(working_days=n)


class TriageConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    clarification_timeout: Duration = timedelta(days=3)
    reminder_before: Duration | None = None
    sweep_interval: Duration = timedelta(minutes=5)
    reopen_window: Duration = timedelta(days=7)  # how long operators may reopen a closed ticket
    # A reporter's message this soon after their ticket was resolved or closed reopens it; later
    # it opens a new ticket linked to the old one.
    reopen_within: Duration = timedelta(days=14)
    # The three clocks (see triage/sla.py). "d" = working days, "h" = elapsed hours.
    verify_within: Term = working_days(3)  # operators verify or ask (SP4N-LAPOR!)
    opd_answer: Term = working_days(7)  # the OPD's first answer; a category may override
    resolve_within: Term = working_days(14)  # the whole case, counted from verification
    extra_days_off: list[date] = []  # cuti bersama and local days off
    # "public" = national holidays; add "government" for the cuti bersama the package knows.
    holiday_categories: list[Literal["public", "government"]] = ["public"]
    # Duplicates (triage/duplicates.py)
    duplicate_window: Duration = timedelta(days=14)
    duplicate_distance_m: float = Field(default=300.0, gt=0)
    duplicate_min_score: float = Field(default=0.5, gt=0, le=1)
    suggestion_limit: int = Field(default=3, ge=1)
    # An OPD's answer goes to the reporter at once ("direct") or when an operator resolves the
    # ticket with it ("review", as SP4N-LAPOR!'s coordinator publishes the agency's answer).
    opd_answers: Literal["direct", "review"] = "review"

    @field_validator("extra_days_off")
    @classmethod
    def _no_repeats(cls, days: list[date]) -> list[date]:
        repeated = sorted(d.isoformat() for d, n in Counter(days).items() if n > 1)
        if repeated:
            raise ValueError(f"listed more than once: {', '.join(repeated)}")
        return sorted(days)


class OpdConfig(BaseModel):
    """A department (or central-government liaison) that tickets are forwarded to."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=_CODE)
    name: str = Field(min_length=1)
    # A central-government agency (PLN, BPJS, BPN) reached through a liaison like any OPD.
    central: bool = False
    # Where the notifier sends this OPD's escalation alerts (optional).
    email: str | None = None
    telegram_chat_id: str | None = None

    @field_validator("telegram_chat_id", mode="before")
    @classmethod
    def _chat_id_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value


class CategoryConfig(BaseModel):
    """A category with its keywords and the OPD it goes to.

    `opd` is one OPD code, or a list of them when the case decides ("parkir" is Dishub's for
    tariffs, Satpol PP's on the pavement): then `opd_keywords` gives, per OPD after the first,
    the keywords that send a report there, and the first OPD takes the rest.
    """

    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=_CODE)
    name: str = Field(min_length=1)
    opd: str | None = None  # the OPD it goes to by default (the first of a list)
    opds: list[str] = []  # every OPD it may go to, from `opd = [...]`; [] for a single OPD
    opd_keywords: dict[str, list[str]] = {}
    keywords: list[str] = []
    opd_answer: Term | None = None  # overrides [triage] opd_answer for this category

    @model_validator(mode="before")
    @classmethod
    def _opd_list(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("opds") and data["opds"][0] != data.get("opd"):
            raise ValueError('opds: write the list as opd = ["A", "B"]')  # read back, it agrees
        if isinstance(data, dict) and isinstance(data.get("opd"), list):
            listed = data["opd"]
            if not listed:
                raise ValueError("opd: name at least one OPD code")
            data = {**data, "opd": listed[0], "opds": listed}
        return data

    @model_validator(mode="after")
    def _opd_keywords_pick_a_listed_opd(self) -> CategoryConfig:
        for opd in self.opd_keywords:
            if opd not in self.opds[1:]:
                listed = ", ".join(self.opds[1:]) or "none"
                raise ValueError(
                    f"opd_keywords.{opd}: not one of the category's other OPDs"
                    f" (opd = [...] after the first: {listed})"
                )
        return self

    @field_validator("keywords")
    @classmethod
    def _keywords_have_words(cls, keywords: list[str]) -> list[str]:
        for i, keyword in enumerate(keywords):
            if not re.search(r"\w", keyword):
                raise ValueError(f"keyword [{i}] is empty")
        return keywords


class NeighbourConfig(BaseModel):
    """A regency or city next to ours, with the sub-districts people name in reports."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)  # without "Kabupaten"/"Kota", e.g. "Kudus"
    kind: Literal["kabupaten", "kota"] = "kabupaten"
    kecamatan: list[str] = []


class JurisdictionConfig(BaseModel):
    """Where the region is: names for the text check, an optional boundary for the map check."""

    model_config = ConfigDict(extra="forbid")

    name: str = "Pati"  # the region's own name without "Kabupaten"/"Kota"
    kind: Literal["kabupaten", "kota"] = "kabupaten"
    kecamatan: list[str] = []
    villages: list[str] = []
    # A GeoJSON Polygon/MultiPolygon (or a Feature/FeatureCollection of them), relative to the
    # config file's folder.
    boundary: Path | None = None
    # Place names that are also everyday words ("jati" = teak): they count only when written
    # after "kecamatan", "kec", "desa" or "kelurahan".
    context_only: list[str] = []
    neighbour: list[NeighbourConfig] = []


def config_problems(
    opd: list[OpdConfig], category: list[CategoryConfig], jurisdiction: JurisdictionConfig
) -> list[str]:
    """Mistakes that span tables, one "key: message" line each."""
    problems = [f"opd[{i}].code: {c!r} is used twice" for i, c in _repeats(o.code for o in opd)]
    problems += [
        f"category[{i}].code: {c!r} is used twice" for i, c in _repeats(c.code for c in category)
    ]
    codes = {o.code for o in opd}
    known = ", ".join(sorted(codes)) or "none"
    for i, cat in enumerate(category):
        for opd in dict.fromkeys([cat.opd, *cat.opds]):
            if opd is not None and opd not in codes:
                problems.append(
                    f"category[{i}].opd: {opd!r} is not an [[opd]] code (configured: {known})"
                )
    places = (f"{n.kind} {n.name}".casefold() for n in jurisdiction.neighbour)
    problems += [
        f"jurisdiction.neighbour[{i}].name: {n!r} is listed twice" for i, n in _repeats(places)
    ]
    return problems


def _repeats(values: Any) -> list[tuple[int, str]]:
    seen: set[str] = set()
    repeated = []
    for i, value in enumerate(values):
        if value in seen:
            repeated.append((i, value))
        seen.add(value)
    return repeated
