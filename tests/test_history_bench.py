"""bench/history.py's paths, CI-sized: no page, API call or daily job walks a big table.

A few thousand generated tickets are too few for timings to mean anything, and too few for
PostgreSQL to prefer an index on its own; the plans are what carry over to a million. So every
statement the operator's paths and the daily jobs run (statistics, digest, sweeps, escalation
alerts, clean-up) is EXPLAINed (on PostgreSQL with sequential scans priced
out, as a big table prices them) and a whole-table read of a table that grows with the years
fails the test: a Seq Scan, SQLite's SCAN of a table, or a full index read with no LIMIT.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event

from conftest import REPO
from store import migrate
from store.db import Database
from store.retention import Keep, prune

sys.path.insert(0, str(REPO / "bench"))

import history
import history_data
import history_site

pytestmark = pytest.mark.empty_database  # Alembic builds the schema itself

TICKETS = 3_000
# Tables that grow with the years; the others hold a few rows per user, OPD or channel.
GROWING = (
    "tickets",
    "messages",
    "reporters",
    "ticket_events",
    "raw_events",
    "attachments",
    "notifications",
    "outbox",
    "delivery_receipts",
    "escalation_alerts",
)


@contextmanager
def recorded(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    statements: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def sqlite_walks(path: Path, statement: str, parameters: Any) -> list[str]:
    with sqlite3.connect(path) as conn:
        plan = [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)]
    limited = " LIMIT " in statement.upper()
    walks = []
    for step in plan:
        if not step.startswith("SCAN "):
            continue
        table = step.split()[1]
        if table not in GROWING:
            continue  # a subquery's rows, json_each, a small table
        if "INDEX" not in step or not limited:
            walks.append(step)
    return walks


def postgresql_walks(engine: Engine, statement: str, parameters: Any) -> list[str]:
    with engine.connect() as conn:
        # Priced as at a million rows: no whole-table read, and joins row by row through an
        # index (a merge or hash join of two small tables reads both whole).
        for setting in ("enable_seqscan", "enable_mergejoin", "enable_hashjoin"):
            conn.exec_driver_sql(f"SET {setting} = off")
        plan = conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {statement}", parameters).scalar()
        conn.rollback()
    plan = plan if isinstance(plan, list) else json.loads(plan)
    limited = " LIMIT " in statement.upper()
    walks = []

    def visit(node: dict[str, Any]) -> None:
        table = node.get("Relation Name")
        kind = node["Node Type"]
        if table in GROWING:
            if kind == "Seq Scan":
                walks.append(f"{kind} on {table}")
            elif "Index" in kind and not node.get("Index Cond") and not limited:
                walks.append(f"{kind} on {table} without a condition")
        for child in node.get("Plans", []):
            visit(child)

    visit(plan[0]["Plan"])
    return walks


async def test_no_operator_path_walks_a_table(database_url: str, tmp_path: Path) -> None:
    migrate.upgrade(database_url)  # the migrations' schema, 0007's indexes and search included
    end = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    db = Database(database_url)
    history_data.History(db.engine, TICKETS, end, history_site.categories()).write()
    history_data.analyze(db.engine)
    db.dispose()
    clock = history.Clock(end)
    db = Database(database_url)
    found = history.samples(db)
    db.dispose()
    day = (end - timedelta(days=1)).date().isoformat()
    async with history_site.running_site(database_url, tmp_path / "data", clock) as site:
        # The start-up retrain walks the audit trail newest first, in the background: not an
        # operator's path, and its statements (when it ran late) were taken for the paths'.
        await history_site.start_up_jobs_done(site.runtime.db, seconds=60)
        engine = site.runtime.db.engine
        checked: list[tuple[str, str, Any]] = []
        for label, who, path, query in history.operator_paths(found, day):
            with recorded(engine) as statements:
                await history._get(site, who, path, query)
            assert statements, label
            checked += [(label, s, p) for s, p in statements]
        notifier = site.runtime.notifier
        assert notifier is not None
        jobs = {
            "digest": lambda: notifier.build(end.date() - timedelta(days=1)),
            "sweep pass": site.runtime.sweeps.run,
            "escalation alerts": notifier.sweep_escalations,
            "clean-up": lambda: prune(site.runtime.db, end, Keep(), batch=500),
        }
        for label, job in jobs.items():
            with recorded(engine) as statements:
                await asyncio.to_thread(job)
            checked += [(label, s, p) for s, p in statements]
        seen, _ = await history.walk(site, budget=30)
        assert seen == TICKETS
        with recorded(engine) as statements:
            await history.walk(site, budget=1)
        checked += [("API cursor walk", s, p) for s, p in statements]
    walks = []
    explaining = Database(database_url)
    for label, statement, parameters in checked:
        if database_url.startswith("sqlite"):
            path = Path(database_url.removeprefix("sqlite:///"))
            found_walks = sqlite_walks(path, statement, parameters)
        else:
            found_walks = postgresql_walks(explaining.engine, statement, parameters)
        if found_walks:
            walks.append((label, found_walks, statement))
    explaining.dispose()
    shown = sorted({f"{label}: {w}\n    {' '.join(s.split())[-160:]}" for label, w, s in walks})
    assert not walks, "\n".join(shown)
