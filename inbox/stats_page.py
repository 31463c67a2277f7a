"""The statistics page and its CSV export; every figure comes from store/stats.py."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import date, datetime
from typing import Any

from aiohttp import web

from inbox.context import SERVICES, InboxServices
from inbox.sessions import MANAGERS, now, page, refused
from inbox.views import render
from store import stats


class BadPeriod(ValueError):
    """`from`/`to` are not days the statistics can be counted for."""


def period(request: web.Request) -> tuple[date, date]:
    """The chosen days, both included; by default the month up to today (local time)."""
    services = request.app[SERVICES]
    today = now(request).astimezone(services.tz).date()
    query = request.query
    try:
        first = date.fromisoformat(query["from"]) if query.get("from") else today.replace(day=1)
        last = date.fromisoformat(query["to"]) if query.get("to") else today
    except ValueError:
        raise BadPeriod from None
    if last < first:
        first, last = last, first
    try:  # the store's bounds: 9999-12-31 has no next day, 0001-01-01 no UTC start
        stats.query_range(first.isoformat(), last.isoformat(), services.tz, now(request))
    except ValueError:
        raise BadPeriod from None
    return first, last


def bad_period(request: web.Request) -> web.Response:
    return refused(request, "stats.bad_period", 400)


def figures(services: InboxServices, first: date, last: date, as_of: datetime) -> dict[str, Any]:
    """store.stats' figures for the days chosen, as /api/stats gives them, plus the stages."""
    start, end = stats.query_range(first.isoformat(), last.isoformat(), services.tz, as_of)
    with services.db.read() as session:
        found = stats.period_stats(session, start, end, as_of=min(end, as_of))
    found["stages"] = stats.stage_counts(found["by_status"])
    return found


routes = web.RouteTableDef()


@routes.get("/stats")
@page(MANAGERS)
async def stats_view(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    try:
        first, last = period(request)
    except BadPeriod:
        return bad_period(request)
    found = await asyncio.to_thread(figures, services, first, last, now(request))
    return render(
        request,
        "stats.html",
        first=first,
        last=last,
        figures=found,
        opd_names={o.code: o.name for o in services.opds},
        category_names={c.code: c.name for c in services.categories},
        bars=bars,
    )


@routes.get("/stats.csv")
@page(MANAGERS)
async def stats_csv(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    try:
        first, last = period(request)
    except BadPeriod:
        return bad_period(request)
    found = await asyncio.to_thread(figures, services, first, last, now(request))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["section", "key", "value"])
    for section, key, value in csv_rows(found):
        writer.writerow([section, key, value])
    name = f"statistik-{first.isoformat()}-{last.isoformat()}.csv"
    return web.Response(
        text=out.getvalue(),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def csv_rows(found: dict[str, Any]) -> list[tuple[str, str, Any]]:
    rows: list[tuple[str, str, Any]] = [("received", "total", found["received"]["total"])]
    rows += [("received_by_channel", k, v) for k, v in found["received"]["by_channel"].items()]
    rows += [("valid", "total", found["valid"])]
    for group in ("not_valid", "rejected"):
        rows += [(group, "total", found[group]["total"])]
        rows += [(f"{group}_by_reason", k, v) for k, v in found[group]["by_reason"].items()]
    rows += [("by_status", k, v) for k, v in found["by_status"].items()]
    rows += [("by_stage", k, v) for k, v in found["stages"].items()]
    rows += [("by_category", k, v) for k, v in found["by_category"].items()]
    rows += [("by_opd", k, v) for k, v in found["by_opd"].items()]
    rows += [("overdue_by_opd", k, len(v)) for k, v in found["overdue_by_opd"].items()]
    rows += [("overdue_verify", "operators", len(found["overdue_verify"]))]
    for key in ("median_first_response_hours", "median_resolution_hours"):
        name = key.removeprefix("median_").removesuffix("_hours")
        rows.append(("median_hours", name, "" if found[key] is None else found[key]))
    return rows


def bars(values: dict[str, int], width: int = 320) -> list[dict[str, Any]]:
    """Bar lengths in SVG units for a chart of `values` (inline SVG: no script, no style)."""
    top = max(values.values(), default=0) or 1
    return [
        {"label": k, "value": v, "length": round(width * v / top), "y": i * 24}
        for i, (k, v) in enumerate(values.items())
    ]
