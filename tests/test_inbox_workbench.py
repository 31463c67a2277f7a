"""The operator's workbench (issue 17): every deadline visible and counted, the queue's order,
views, page size and live counts, assignment, search over every status; through the real
runtime on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from api_client import Api, report, running_api
from inbox_site import add_staff, browser

ROW = re.compile(r'class="ticket-row[^"]*" data-number="([^"]+)"')
DUE = re.compile(r'data-clock="([a-z_]+)" data-due-state="([a-z]+)"')
# Report 1 arrives on Monday 23 Nov 08:00 WIB: the operators verify by the end of Thursday.
VERIFY_DUE = datetime(2026, 11, 26, 16, 59, 59, 999999, tzinfo=UTC)


def numbers(html: str) -> list[str]:
    return ROW.findall(html)


def ticket(n: int) -> str:
    return f"LBP-2026-{n:05d}"


@pytest.fixture
async def api(database_url: str, tmp_path: Path, clock) -> AsyncIterator[Api]:
    async with running_api(database_url, tmp_path, clock) as running:
        add_staff(running, "siti", "operator")
        add_staff(running, "budi", "operator")
        add_staff(running, "kepala", "supervisor")
        yield running


async def test_the_verify_deadline_shows_nears_and_passes(api: Api) -> None:
    await api.runtime.intake.submit([report(1)])
    _, body = await api.get(f"/api/tickets/{ticket(1)}")
    assert datetime.fromisoformat(body["verify_due_at"]) == VERIFY_DUE
    async with browser(api) as b:
        await b.sign_in("siti")
        _, html = await b.page("/")
        assert DUE.findall(html) == [("verify", "ok")]
        assert "Verifikasi" in html and "Lewat tenggat (0)" in html
        api.clock.now = VERIFY_DUE - timedelta(hours=3)
        await b.sign_in("siti")  # days later: the session has ended
        _, html = await b.page("/")
        assert DUE.findall(html) == [("verify", "soon")]
        api.clock.now = VERIFY_DUE + timedelta(hours=1)
        await b.sign_in("siti")
        _, html = await b.page("/")
        assert DUE.findall(html) == [("verify", "late")]
        assert "Lewat tenggat (1)" in html
        _, html = await b.page("/", overdue="1")
        assert numbers(html) == [ticket(1)]
        _, html = await b.page(f"/tickets/{ticket(1)}")
        assert DUE.findall(html) == [("verify", "late")]
        assert "Tenggat verifikasi" in html
        # Verifying stops the operators' clock; forwarding starts the OPD's and the case's.
        await api.act(ticket(1), {"action": "verify", "category": "jalan"})
        _, html = await b.page(f"/tickets/{ticket(1)}")
        assert DUE.findall(html) == []
        await api.act(ticket(1), {"action": "forward"})
        _, html = await b.page(f"/tickets/{ticket(1)}")
        assert [clock for clock, _ in DUE.findall(html)] == ["opd", "resolve"]
        _, html = await b.page("/")
        assert DUE.findall(html) == [("opd", "ok")]
        assert "Jawaban OPD" in html


async def test_the_clarification_deadline_is_the_next_one_while_waiting(api: Api) -> None:
    await api.runtime.intake.submit([report(1)])
    await api.act(ticket(1), {"action": "request_clarification", "facts": ["location"]})
    async with browser(api) as b:
        await b.sign_in("siti")
        _, html = await b.page("/")
        assert [clock for clock, _ in DUE.findall(html)] == ["clarification"]


async def test_api_stats_counts_the_verify_clock_apart_from_the_opds(api: Api) -> None:
    await api.runtime.intake.submit([report(1), report(2)])
    await api.act(ticket(2), {"action": "verify", "category": "jalan"})
    api.clock.now = VERIFY_DUE + timedelta(hours=1)
    token = api.token_for("kepala2", "supervisor")
    status, body = await api.get("/api/stats", token=token, **{"from": "2026-11-23"})
    assert status == 200
    assert (body["overdue_verify"], body["overdue_by_opd"]) == ([ticket(1)], {})
