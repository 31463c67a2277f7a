"""The `[triage]`, `[[opd]]`, `[[category]]` and `[jurisdiction]` tables of config.toml."""

from __future__ import annotations

import logging
import re
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from durations import Duration, bare_days, parse_duration, working_days
from triage.answer_files import FileRules

_CODE = r"^[A-Za-z][A-Za-z0-9_-]{0,31}$"
_FRACTION_OF_DAYS = re.compile(r"^\s*\d+\.\d+\s*d\s*$")

log = logging.getLogger(__name__)

# The sweep runs this often per shortest clock, within these bounds, unless sweep_interval is set.
_SWEEPS_PER_CLOCK = 20
_SWEEP_MIN, _SWEEP_MAX = timedelta(seconds=1), timedelta(minutes=5)


class Term(BaseModel):
    """How long a clock runs: whole working days ("3wd") or elapsed time ("3d", "48h", "90m").

    Working days skip weekends and days off, as Indonesian service standards are written;
    the other units are elapsed time, as in Kota Jambi's 24/48/72-hour targets.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    working_days: int | None = Field(default=None, ge=0)
    elapsed: Duration | None = None

    @model_validator(mode="before")
    @classmethod
    def _parse(cls, value: Any) -> Any:
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            return value
        days = working_days(value)
        if days is not None:
            return {"working_days": days}
        try:
            return {"elapsed": parse_duration(value)}
        except ValueError:
            raise ValueError(
                f'not a deadline: {value!r} (write "3wd" for working days, "3d" or "48h" for '
                "elapsed time)"
            ) from None

    @model_validator(mode="after")
    def _one_kind(self) -> Term:
        if (self.working_days is None) == (self.elapsed is None):
            raise ValueError("give either working_days or elapsed")
        return self

    def __str__(self) -> str:
        if self.working_days is not None:
            return f"{self.working_days}wd"
        assert self.elapsed is not None
        return f"{self.elapsed.total_seconds() / 3600:g}h"

    @property
    def roughly(self) -> timedelta:
        """About how long it runs (a working day as a day), to size the sweep by."""
        if self.working_days is not None:
            return timedelta(days=self.working_days)
        assert self.elapsed is not None
        return self.elapsed


def working_days_term(n: int) -> Term:
    return Term(working_days=n)


def read_deadline(value: Any, key: str) -> Any:
    """A deadline key's value; a bare "3d" keeps its old meaning there (working days), with a
    warning naming the key, until configs say "3wd" or "72h"."""
    days = bare_days(value)
    if days is None:
        if isinstance(value, str) and _FRACTION_OF_DAYS.match(value):
            raise ValueError(
                f'not a deadline: {value!r} (a bare "d" still means working days here, and those '
                'are whole: write "2wd", or hours such as "36h")'
            )
        return value
    log.warning(
        '%s = "%s" is read as %d WORKING days, as before; write "%dwd" to keep that meaning '
        '(or "%dh" for elapsed time): a bare "d" will mean elapsed days here as everywhere else',
        key,
        value.strip(),
        days,
        days,
        days * 24,
    )
    return {"working_days": days}


class TriageConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # A reporter asked for more has this long to answer before the report closes ("3wd" counts
    # working days); `reminder_before` the deadline they are reminded (elapsed time).
    clarification_timeout: Term = Term(elapsed=timedelta(days=3))
    reminder_before: Duration | None = None
    # How often the sweeps (closures, reminders, overdue flags) run; None: derived from the
    # shortest clock (see `sweep_every`).
    sweep_interval: Duration | None = None
    # An operator's "reopen" is refused this long after the ticket was resolved or closed.
    reopen_window: Duration = timedelta(days=7)
    # A reporter's message this soon after their ticket was resolved or closed reopens it; later
    # it opens a new ticket linked to the old one.
    reopen_within: Duration = timedelta(days=14)
    # The three clocks (see triage/sla.py). "wd" = working days; "d", "h" = elapsed time.
    verify_within: Term = working_days_term(3)  # operators verify or ask (SP4N-LAPOR!)
    opd_answer: Term = working_days_term(7)  # the OPD's first answer; a category may override
    resolve_within: Term = working_days_term(14)  # the whole case, counted from verification
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
    # Files an OPD may attach to its answer (triage/answer_files.py), checked by their content.
    answer_file_types: list[Literal["image/jpeg", "image/png", "image/webp", "application/pdf"]] = [
        "image/jpeg",
        "image/png",
        "image/webp",
        "application/pdf",
    ]
    answer_file_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1, le=100 * 1024 * 1024)
    answer_max_files: int = Field(default=5, ge=1, le=20)

    # How often the suggestions relearn from operators' decisions (triage/learning.py).
    learn_interval: Duration = timedelta(hours=1)
    # From how many tickets, the latest labelled (triage/learning.py): the newest decisions
    # teach best, and ten years of them would be read into memory every hour.
    learn_examples: int = Field(default=20_000, ge=100, le=1_000_000)

    @field_validator("verify_within", "opd_answer", "resolve_within", mode="before")
    @classmethod
    def _old_day_unit(cls, value: Any, info: ValidationInfo) -> Any:
        return read_deadline(value, f"triage.{info.field_name}")

    @property
    def sweep_every(self) -> timedelta:
        """`sweep_interval`, or a twentieth of the shortest clock between 1 s and 5 min: a
        clarification clock sped up to minutes for a demo is swept in seconds."""
        if self.sweep_interval is not None:
            return self.sweep_interval
        clocks = [
            self.clarification_timeout.roughly,
            self.verify_within.roughly,
            self.opd_answer.roughly,
            self.resolve_within.roughly,
        ]
        if self.reminder_before:
            clocks.append(self.reminder_before)
        shortest = min(c for c in clocks if c > timedelta()) if any(clocks) else _SWEEP_MAX
        return min(_SWEEP_MAX, max(_SWEEP_MIN, shortest / _SWEEPS_PER_CLOCK))

    @field_validator("extra_days_off")
    @classmethod
    def _no_repeats(cls, days: list[date]) -> list[date]:
        repeated = sorted(d.isoformat() for d, n in Counter(days).items() if n > 1)
        if repeated:
            raise ValueError(f"listed more than once: {', '.join(repeated)}")
        return sorted(days)

    @property
    def answer_file_rules(self) -> FileRules:
        return FileRules(
            self.answer_file_max_bytes, frozenset(self.answer_file_types), self.answer_max_files
        )


class OpdConfig(BaseModel):
    """A department (or central-government liaison) that tickets are forwarded to."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=_CODE)
    name: str = Field(min_length=1)
    # A central-government agency (PLN, BPJS, BPN) reached through a liaison like any OPD.
    central: bool = False
    # The names SP4N-LAPOR! exports give this office ("Instansi Terdisposisi"), for
    # `lapor import` and `lapor export`; the first is the one written on export.
    lapor: list[str] = []
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
    # SP4N-LAPOR!'s categories ("Kategori") that mean this one, for `lapor import` and
    # `lapor export`; the first is the one written on export.
    lapor: list[str] = []

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

    @field_validator("opd_answer", mode="before")
    @classmethod
    def _old_day_unit(cls, value: Any, info: ValidationInfo) -> Any:
        return read_deadline(value, f"category {info.data.get('code', '?')!r} opd_answer")

    @field_validator("keywords")
    @classmethod
    def _keywords_have_words(cls, keywords: list[str]) -> list[str]:
        for i, keyword in enumerate(keywords):
            if not re.search(r"\w", keyword):
                raise ValueError(f"keyword [{i}] is empty")
        return keywords


class JurisdictionConfig(BaseModel):
    """An optional boundary for the map check; the region's places come from the national
    gazetteer (triage.gazetteer) by `[region]` code or name."""

    model_config = ConfigDict(extra="forbid")

    # A GeoJSON Polygon/MultiPolygon (or a Feature/FeatureCollection of them), relative to the
    # config file's folder.
    boundary: Path | None = None


def config_problems(opd: list[OpdConfig], category: list[CategoryConfig]) -> list[str]:
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
    return problems


def _repeats(values: Any) -> list[tuple[int, str]]:
    seen: set[str] = set()
    repeated = []
    for i, value in enumerate(values):
        if value in seen:
            repeated.append((i, value))
        seen.add(value)
    return repeated
