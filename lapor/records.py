"""Rows of an SP4N-LAPOR! export checked and turned into reports to store, every problem named
with its line, before anything is written.

The platform's categories and offices become the regency's through `lapor = [...]` in
config.toml's `[[category]]` and `[[opd]]` tables (the code and name count too, so an export
Kanal wrote reads back). A value no table names is a problem, unless the admin lets it
through (`--allow-unmapped`): the report is then kept without that label.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from lapor import columns as col
from lapor.read import SheetRow
from triage.config import CategoryConfig, OpdConfig

PREFIX = "LAPOR-"  # an imported ticket's number: the prefix and the Tracking ID
MAX_TRACKING_ID = 40 - len(PREFIX)  # tickets.number holds 40


@dataclass(frozen=True, slots=True)
class LaporReport:
    line: int
    tracking_id: str
    created_at: datetime  # aware
    reporter: str | None  # None for anonymous and confidential reports
    title: str
    text: str
    category: str | None  # the regency's code
    opd: str | None
    status: str  # the ticket status
    extra: dict[str, str] = field(default_factory=dict)  # the platform's other columns, as text


@dataclass
class Checked:
    reports: list[LaporReport]
    problems: list[str]  # "line N: ..." each: nothing may be stored while there are any
    warnings: list[str] = field(default_factory=list)  # unmapped values let through


class Mapping:
    """The regency's codes for the platform's category and office names."""

    def __init__(self, categories: Sequence[CategoryConfig], opds: Sequence[OpdConfig]) -> None:
        self.categories = _names(categories)
        self.opds = _names(opds)

    def category(self, name: str) -> str | None:
        """The code; None when several categories share the name; KeyError when none has it."""
        return self.categories[name.strip().casefold()]

    def opd(self, name: str) -> str | None:
        return self.opds[name.strip().casefold()]


def _names(tables: Sequence[CategoryConfig] | Sequence[OpdConfig]) -> dict[str, str | None]:
    """Code by name; None for a platform name several tables list (LAPOR!'s categories are
    broader than a regency's: "Pekerjaan Umum" is both roads and drainage)."""
    found: dict[str, set[str]] = {}
    for table in tables:
        for name in (table.code, table.name, *table.lapor):
            found.setdefault(name.strip().casefold(), set()).add(table.code)
    return {name: next(iter(codes)) if len(codes) == 1 else None for name, codes in found.items()}


def check(
    rows: Sequence[SheetRow], mapping: Mapping, tz: tzinfo, *, allow_unmapped: bool = False
) -> Checked:
    reports, problems, warnings = [], [], []
    seen: dict[str, int] = {}
    for row in rows:
        try:
            report, unmapped, shared = _report(row, mapping, tz)
        except ValueError as exc:
            problems.append(f"line {row.line}: {exc}")
            continue
        unmapped = [f"line {row.line}: {what}" for what in unmapped]
        if unmapped and not allow_unmapped:
            problems += unmapped
            continue
        warnings += unmapped + [f"line {row.line}: {what}" for what in shared]
        if report.tracking_id in seen:
            problems.append(
                f"line {row.line}: Tracking ID {report.tracking_id} repeats line"
                f" {seen[report.tracking_id]}"
            )
            continue
        seen[report.tracking_id] = row.line
        reports.append(report)
    return Checked(reports, problems, warnings)


def _report(
    row: SheetRow, mapping: Mapping, tz: tzinfo
) -> tuple[LaporReport, list[str], list[str]]:
    value = {name: _text(v) for name, v in row.values.items()}
    for name in col.REQUIRED:
        if not value.get(name):
            raise ValueError(f"{name} is empty")
    if len(value[col.TRACKING_ID]) > MAX_TRACKING_ID:
        raise ValueError(f"{col.TRACKING_ID} longer than {MAX_TRACKING_ID} characters")
    day = col.parse_date(row.values[col.DATE])
    moment = col.parse_time(row.values.get(col.TIME))
    status = col.STATUSES.get(value[col.STATUS].casefold())
    if status is None:
        known = ", ".join(sorted({s.title() for s in col.STATUSES}))
        raise ValueError(f"unknown {col.STATUS} {value[col.STATUS]!r} (known: {known})")
    unmapped: list[str] = []
    shared: list[str] = []
    category = opd = None
    if value.get(col.CATEGORY):
        try:
            category = mapping.category(value[col.CATEGORY])
            if category is None:
                shared.append(
                    f"{col.CATEGORY} {value[col.CATEGORY]!r} is listed by several [[category]]"
                    " tables: kept without a category"
                )
        except KeyError:
            unmapped.append(
                f"{col.CATEGORY} {value[col.CATEGORY]!r} is in no [[category]] lapor = [...]"
            )
    if value.get(col.AGENCY):
        try:
            opd = mapping.opd(value[col.AGENCY])
        except KeyError:
            unmapped.append(f"{col.AGENCY} {value[col.AGENCY]!r} is in no [[opd]] lapor = [...]")
    hidden = value.get(col.PRIVACY, "").casefold() in col.HIDDEN_IDENTITY
    extra = {
        name: value.get(name, "")
        for name in col.COLUMNS
        if name not in (col.REPORTER, col.FIRST_TEXT, col.TITLE) and value.get(name)
    }
    report = LaporReport(
        line=row.line,
        tracking_id=value[col.TRACKING_ID],
        created_at=datetime.combine(day, moment, tz),
        reporter=None if hidden else (value.get(col.REPORTER) or None),
        title=value.get(col.TITLE, ""),
        text=value[col.FIRST_TEXT],
        category=category,
        opd=opd,
        status=status,
        extra=extra,
    )
    return report, unmapped, shared


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a spreadsheet's number: a Tracking ID, an ID Kategori
    return str(value).strip()
