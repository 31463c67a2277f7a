"""The `lapor import`, `lapor export` and `triage evaluate` commands of main.py."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

# The readers, writers and the learner load when their command runs: every other command of
# main.py starts without them.
if TYPE_CHECKING:
    from lapor.records import Checked
    from settings import Settings
    from store.db import Database


def add_commands(commands: Any, database: Any) -> None:
    """Registers the commands on main.py's subparsers; `database` opens the store as main does."""
    lapor = commands.add_parser("lapor", help="SP4N-LAPOR! exports: import history, export tickets")
    sub = lapor.add_subparsers(dest="lapor_command", required=True)
    imports = sub.add_parser("import", help="store an SP4N-LAPOR! export (CSV or XLSX) as tickets")
    imports.add_argument("file", type=Path)
    imports.add_argument(
        "--allow-unmapped",
        action="store_true",
        help="keep reports whose category or office no lapor = [...] names, without that label",
    )
    imports.add_argument("--dry-run", action="store_true", help="check the file, store nothing")
    imports.set_defaults(handler=lambda a, s, b: cmd_lapor_import(a, s, b, database))
    exports = sub.add_parser("export", help="write tickets in SP4N-LAPOR!'s export columns")
    exports.add_argument("--from", dest="start", type=date.fromisoformat, required=True)
    exports.add_argument("--to", dest="end", type=date.fromisoformat, required=True)
    exports.add_argument("--format", choices=["csv", "xlsx"], default="csv")
    exports.add_argument("--output", type=Path, help="the file (default: stdout for csv)")
    exports.set_defaults(handler=lambda a, s, b: cmd_lapor_export(a, s, b, database))

    triage = commands.add_parser("triage", help="triage's suggestions")
    triage_sub = triage.add_subparsers(dest="triage_command", required=True)
    evaluate = triage_sub.add_parser(
        "evaluate", help="measure the suggestions on a labelled SP4N-LAPOR! export"
    )
    evaluate.add_argument("file", type=Path)
    evaluate.add_argument(
        "--split", type=_share, default=0.5, help="the earlier share trained on (default 0.5)"
    )
    evaluate.add_argument("--format", choices=["text", "json"], default="text")
    evaluate.set_defaults(handler=cmd_triage_evaluate)


def _share(value: str) -> float:
    share = float(value)
    if not 0 < share < 1:
        raise argparse.ArgumentTypeError("give a share between 0 and 1, e.g. 0.5")
    return share


def _checked(args: argparse.Namespace, settings: Settings, allow_unmapped: bool) -> Checked | None:
    from lapor.read import ExportUnreadable, read_export
    from lapor.records import Mapping, check

    try:
        rows = read_export(args.file)
    except (ExportUnreadable, OSError, UnicodeDecodeError) as exc:
        print(f"cannot read {args.file}: {exc}", file=sys.stderr)
        return None
    mapping = Mapping(settings.category, settings.opd)
    return check(rows, mapping, settings.region.tz, allow_unmapped=allow_unmapped)


def cmd_lapor_import(
    args: argparse.Namespace, settings: Settings, base: Path, database: Any
) -> int:
    from lapor.store_import import import_reports
    from triage.learning import retrain

    checked = _checked(args, settings, args.allow_unmapped)
    if checked is None:
        return 1
    if checked.problems:
        print(
            f"nothing imported: {len(checked.problems)} problem(s) in {args.file}", file=sys.stderr
        )
        for problem in checked.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    for warning in checked.warnings:
        print(f"  kept without that label: {warning}", file=sys.stderr)
    if args.dry_run:
        print(f"{len(checked.reports)} reports read; nothing stored (--dry-run)")
        return 0
    db: Database = database(settings, base, migrate_sqlite=True)
    result = import_reports(db, checked.reports)
    # The imported labels count from the next suggestion on.
    examples = retrain(db, datetime.now(UTC))
    print(
        f"{result.stored} reports imported, {result.skipped} already stored;"
        f" suggestions relearned from {examples} labelled examples"
    )
    return 0


def cmd_lapor_export(
    args: argparse.Namespace, settings: Settings, base: Path, database: Any
) -> int:
    from lapor.export import export_rows, write_export

    if args.end < args.start:
        print("--to is before --from", file=sys.stderr)
        return 2
    if args.format == "xlsx" and args.output is None:
        print("--format xlsx needs --output FILE", file=sys.stderr)
        return 2
    tz = settings.region.tz
    start = datetime.combine(args.start, time(0), tz)
    end = datetime.combine(args.end + timedelta(days=1), time(0), tz)
    db: Database = database(settings, base, migrate_sqlite=True)
    with db.read() as session:
        rows = export_rows(session, start, end, tz, settings.category, settings.opd)
    if args.output is None:
        import csv

        from lapor.columns import COLUMNS

        writer = csv.DictWriter(sys.stdout, fieldnames=list(COLUMNS))
        writer.writeheader()
        writer.writerows(rows)
        return 0
    write_export(rows, args.output, args.format)
    print(f"{len(rows)} tickets written to {args.output}", file=sys.stderr)
    return 0


def cmd_triage_evaluate(args: argparse.Namespace, settings: Settings, base: Path) -> int:
    from triage.evaluate import as_text, evaluate
    from triage.jurisdiction import Jurisdiction

    checked = _checked(args, settings, allow_unmapped=True)
    if checked is None:
        return 1
    for problem in checked.problems:
        print(f"skipped: {problem}", file=sys.stderr)
    for warning in checked.warnings:
        print(f"unlabelled: {warning}", file=sys.stderr)
    place = Jurisdiction.from_config(settings.jurisdiction, settings.region.name, base)
    figures = evaluate(
        checked.reports,
        settings.category,
        split=args.split,
        region=settings.region.name,
        out_of_region=lambda text: place.check(text, None, "id").flag,
    )
    if args.format == "json":
        print(json.dumps(figures, indent=2, ensure_ascii=False))
    else:
        print(as_text(figures))
    return 0
