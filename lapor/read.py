"""An SP4N-LAPOR! export file (CSV or XLSX) as rows of text by column name, with line numbers."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lapor.columns import REQUIRED


class ExportUnreadable(ValueError):
    """Not an export this reads: a missing column, an unknown file type, a broken file."""


@dataclass(frozen=True, slots=True)
class SheetRow:
    line: int  # as the admin sees it: the header is line 1
    values: dict[str, Any]  # by column name; text, or a date/time a spreadsheet typed


def read_export(path: Path) -> list[SheetRow]:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        rows = _csv_rows(path)
    elif suffix in (".xlsx", ".xlsm"):
        rows = _xlsx_rows(path)
    else:
        raise ExportUnreadable(f"{path.name}: not a .csv or .xlsx file")
    first = next(rows, None)
    if first is None:
        raise ExportUnreadable(f"{path.name}: the file is empty")
    header = first[1]
    names = [str(name or "").strip() for name in header]
    missing = [column for column in REQUIRED if column not in names]
    if missing:
        raise ExportUnreadable(
            f"{path.name}: line 1 lacks the column(s) {', '.join(missing)}"
            " (is it an SP4N-LAPOR! export?)"
        )
    found = []
    for line, values in rows:
        if not any(str(v).strip() for v in values if v is not None):
            continue  # a blank line, often at the end of a spreadsheet
        found.append(SheetRow(line, {n: v for n, v in zip(names, values, strict=False) if n}))
    return found


def _csv_rows(path: Path) -> Iterator[tuple[int, list[Any]]]:
    text = path.read_text(encoding="utf-8-sig")
    try:
        dialect: Any = csv.Sniffer().sniff(text.split("\n", 1)[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(text.splitlines(keepends=True), dialect)
    start = 1
    for values in reader:
        # A quoted cell may span lines: a row is numbered by the line it starts on.
        yield start, values
        start = reader.line_num + 1


def _xlsx_rows(path: Path) -> Iterator[tuple[int, list[Any]]]:
    from openpyxl import load_workbook  # only when a spreadsheet is read

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several kinds for a file that is no workbook
        raise ExportUnreadable(f"{path.name}: not a readable XLSX file ({exc})") from exc
    try:
        for line, row in enumerate(book.worksheets[0].iter_rows(values_only=True), start=1):
            yield line, list(row)
    finally:
        book.close()
