"""The statistics page and its CSV export, with figures from store/stats.py; on SQLite and
PostgreSQL through the real runtime."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from api_client import Api, report, running_api
from inbox_site import add_staff, browser


@pytest.fixture
async def api(database_url: str, tmp_path: Path, clock) -> AsyncIterator[Api]:
    async with running_api(database_url, tmp_path, clock) as running:
        add_staff(running, "kepala", "supervisor")
        yield running


async def seed(api: Api) -> None:
    """Four reports on 23 November: resolved, with an OPD and overdue, spam, and waiting."""
    await api.runtime.intake.submit([report(1), report(2), report(3, channel="email"), report(4)])
    for number, category in (("LBP-2026-00001", "jalan"), ("LBP-2026-00002", "pju")):
        await api.act(number, {"action": "verify", "category": category})
        await api.act(number, {"action": "forward"})
    await api.act("LBP-2026-00003", {"action": "reject", "resolution": "spam"})
    api.clock.advance(timedelta(hours=6))
    await api.act("LBP-2026-00001", {"action": "resolve", "message": "Sudah diperbaiki."})
    api.clock.advance(timedelta(days=14))  # Dishub's answer is late


def figure(html: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}">([^<]*)<', html)
    assert found, element_id
    return found.group(1)


async def test_the_statistics_page_shows_the_period_figures(api: Api) -> None:
    await seed(api)
    async with browser(api) as b:
        await b.sign_in("kepala")
        status, html = await b.page("/stats", **{"from": "2026-11-01", "to": "2026-12-31"})
        assert status == 200
        assert figure(html, "received-total") == "4"
        assert figure(html, "valid-total") == "2"
        assert figure(html, "not-valid-total") == "1"
        assert figure(html, "median-resolution") == "6,0"  # Indonesian writes a decimal comma
        assert '<svg class="chart" id="chart-channel"' in html
        assert 'href="/tickets/LBP-2026-00002"' in html  # overdue per OPD, as of today
        # A period that ended before Dishub's due time shows nothing overdue.
        _, november = await b.page("/stats", **{"from": "2026-11-01", "to": "2026-11-30"})
        assert figure(november, "received-total") == "4"
        assert 'href="/tickets/LBP-2026-00002"' not in november
        _, empty = await b.page("/stats", **{"from": "2026-10-01", "to": "2026-10-31"})
        assert figure(empty, "received-total") == "0"
        assert (await b.page("/stats", **{"from": "kemarin"}))[0] == 400


async def test_the_csv_export_holds_the_same_figures(api: Api) -> None:
    await seed(api)
    async with browser(api) as b:
        await b.sign_in("kepala")
        response = await b.http.get("/stats.csv", params={"from": "2026-11-01", "to": "2026-12-31"})
        assert response.status == 200
        assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
        assert response.headers["Content-Disposition"] == (
            'attachment; filename="statistik-2026-11-01-2026-12-31.csv"'
        )
        rows = {(s, k): v for s, k, v in csv.reader(io.StringIO(await response.text()))}
    assert rows[("received", "total")] == "4"
    assert rows[("received_by_channel", "whatsapp")] == "3"
    assert rows[("received_by_channel", "email")] == "1"
    assert rows[("not_valid_by_reason", "spam")] == "1"
    assert rows[("by_status", "resolved")] == "1"
    assert rows[("by_stage", "to_follow_up")] == "1"
    assert rows[("by_stage", "in_process")] == "1"
    assert rows[("by_category", "jalan")] == "1"
    assert rows[("by_opd", "dishub")] == "1"
    assert rows[("overdue_by_opd", "dishub")] == "1"
    assert rows[("median_hours", "resolution")] == "6.0"


async def test_the_statistics_page_shows_the_reporters_verdict_per_opd(api: Api) -> None:
    """Issue 18: resolved, reopened by the reporter, rated, per OPD and category."""
    await api.runtime.intake.submit([report(1)])
    await api.act("LBP-2026-00001", {"action": "verify", "category": "jalan"})
    await api.act("LBP-2026-00001", {"action": "forward"})
    await api.act("LBP-2026-00001", {"action": "resolve", "message": "Sudah diperbaiki."})
    await api.runtime.intake.submit([report(5, sender="628120000001", text="Sudah, 4")])
    async with browser(api) as b:
        await b.sign_in("kepala")
        _, html = await b.page("/stats", **{"from": "2026-11-01", "to": "2026-12-31"})
    assert "<h2>Hasil menurut pelapor, per OPD</h2>" in html
    row = (
        '<tr data-code="pupr"><td>Dinas Pekerjaan Umum dan Penataan Ruang</td><td>1</td>'
        "<td>0 (0%)</td><td>1</td><td>4,0</td></tr>"
    )
    assert row in html
    assert '<tr data-code="jalan"><td>Jalan dan jembatan</td><td>1</td>' in html
