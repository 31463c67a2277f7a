"""store.stats: the pure figures, the ranges callers give, and GET /api/stats over a seeded day."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from sqlalchemy import text
from test_digest import DAY, EMPTY, MONTH, kanal, seed_day, wib
from test_digest import report as digest_report

from api_client import Api
from store import stats
from store.db import Database
from store.migrate import alembic_config
from store.stats import TicketRow, period_figures, query_range, stage_counts

WIB = ZoneInfo("Asia/Jakarta")
T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def row(number: str, status: str, **values) -> TicketRow:
    base = {
        "channel": "whatsapp",
        "resolution": None,
        "category": None,
        "opd": None,
        "created_at": T0,
        "verified_at": None,
        "closed_at": None,
        "opd_due_at": None,
    }
    return TicketRow(number=number, status=status, **{**base, **values})


A_OUTCOME = {"resolved": 1, "reopened": 0, "reopened_share": 0.0, "rated": 1, "mean_rating": 4.0}


def test_figures_of_plain_rows() -> None:
    rows = [
        row(
            "A",
            "resolved",
            resolution="resolved",
            verified_at=T0,
            closed_at=T0 + timedelta(hours=5),
            category="jalan",
            opd="pupr",
            first_response_at=T0 + timedelta(minutes=30),
            rating=4,
        ),
        row("B", "closed", resolution="spam", channel="email"),
        row("C", "closed", resolution="duplicate"),  # merged: neither not valid nor rejected
        row("D", "closed", resolution="private_matter", first_response_at=T0 + timedelta(hours=1)),
        row(
            "E",
            "in_progress",
            verified_at=T0,
            opd="pupr",
            opd_due_at=T0 + timedelta(hours=2),
            first_response_at=T0 + timedelta(hours=4),
        ),
        row("F", "forwarded", verified_at=T0, opd="dlh", opd_due_at=T0 + timedelta(hours=9)),
        # The operators' clock: G is past it, H not yet, I was verified (its clock stopped).
        row("G", "new", verify_due_at=T0 + timedelta(hours=1)),
        row("H", "new", verify_due_at=T0 + timedelta(hours=4)),
        row("I", "new", verified_at=T0, category="jalan", opd="pupr"),
    ]
    figures = period_figures(rows, as_of=T0 + timedelta(hours=3))
    assert figures == {
        "received": {"total": 9, "by_channel": {"email": 1, "whatsapp": 8}},
        "valid": 4,
        "not_valid": {"total": 1, "by_reason": {"not_factual": 0, "no_response": 0, "spam": 1}},
        "rejected": {
            "total": 1,
            "by_reason": {
                "out_of_jurisdiction": 0,
                "not_government_affairs": 0,
                "private_matter": 1,
            },
        },
        "by_status": {
            "new": 3,
            "clarifying": 0,
            "forwarded": 1,
            "in_progress": 1,
            "answered": 0,
            "resolved": 1,
            "closed": 3,
        },
        "by_category": {"jalan": 2},
        "by_opd": {"dlh": 1, "pupr": 3},
        "overdue_by_opd": {"pupr": ["E"]},
        "overdue_verify": ["G"],
        "median_first_response_hours": 1.0,
        "median_resolution_hours": 5.0,
        "satisfaction": {
            "by_opd": {"pupr": A_OUTCOME},
            "by_category": {"jalan": A_OUTCOME},
        },
    }
    assert stage_counts(figures["by_status"]) == {
        "to_follow_up": 3,
        "in_process": 2,
        "resolved": 1,
        "closed": 3,
    }
    assert period_figures([], as_of=T0)["median_first_response_hours"] is None


def test_the_share_reopened_and_the_mean_rating_per_opd_and_category() -> None:
    """Issue 18: what E-Sambat and LAPOR! publish, of the tickets resolved at least once."""
    rows = [
        row("A", "resolved", opd="pupr", category="jalan", rating=5),
        row("B", "resolved", opd="pupr", category="jalan", rating=2),
        row("C", "forwarded", opd="pupr", category="jalan", reopened=True, rating=1),
        row("D", "resolved", opd="dlh", category="sampah"),
        row("E", "forwarded", opd="dlh", category="sampah"),  # never resolved: not counted
        row("F", "resolved"),  # no OPD nor category
    ]
    satisfaction = period_figures(rows, as_of=T0)["satisfaction"]
    pupr = {"resolved": 3, "reopened": 1, "reopened_share": 0.333, "rated": 3, "mean_rating": 2.67}
    dlh = {"resolved": 1, "reopened": 0, "reopened_share": 0.0, "rated": 0, "mean_rating": None}
    assert satisfaction == {
        "by_opd": {"dlh": dlh, "pupr": pupr},
        "by_category": {"jalan": pupr, "sampah": dlh},
    }


def test_ranges_are_local_days_or_instants() -> None:
    now = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)  # 08:00 WIB on the 24th
    assert query_range(None, None, WIB, now) == (
        datetime(2026, 11, 1, tzinfo=WIB),
        datetime(2026, 11, 25, tzinfo=WIB),
    )
    assert query_range("2026-11-23", "2026-11-23", WIB, now) == stats.day_range(
        date(2026, 11, 23), WIB
    )
    assert query_range("2026-11-23T07:00:00+07:00", "2026-11-23T12:00:00Z", WIB, now) == (
        datetime(2026, 11, 23, 0, 0, tzinfo=UTC),
        datetime(2026, 11, 23, 12, 0, tzinfo=UTC),
    )
    assert stats.month_to_date_range(date(2026, 11, 23), WIB) == (
        datetime(2026, 11, 1, tzinfo=WIB),
        datetime(2026, 11, 24, tzinfo=WIB),
    )
    for first, last, problem in (
        ("2026-11-24", "2026-11-23", "`from` must come before `to`"),
        ("yesterday", None, "`from` must be a date (YYYY-MM-DD) or an ISO 8601 time"),
        ("2026-11-23T07:00:00", None, "`from` needs a time zone offset"),
    ):
        with pytest.raises(ValueError, match=re.escape(problem)):
            query_range(first, last, WIB, now)


@pytest.fixture
async def seeded(
    database_url: str, tmp_path: Path, clock, smtp_server, telegram
) -> AsyncIterator[Api]:
    async with kanal(database_url, tmp_path, clock, smtp_server, telegram) as api:
        await seed_day(api)
        clock.now = wib(24, 7)
        api.token = api.token_for("kepala", "supervisor")  # the figures are for managers
        yield api


@pytest.fixture
async def telegram():
    from fake_telegram_api import FakeTelegramBotApi

    fake = await FakeTelegramBotApi().start()
    yield fake
    await fake.stop()


async def test_the_api_answers_the_digest_figures_for_any_range(seeded: Api) -> None:
    assert await seeded.get("/api/stats", **{"from": "2026-11-23", "to": "2026-11-23"}) == (
        200,
        DAY,
    )
    assert await seeded.get("/api/stats", **{"to": "2026-11-23"}) == (200, MONTH)
    assert await seeded.get("/api/stats", **{"from": "2026-11-20", "to": "2026-11-21"}) == (
        200,
        EMPTY,
    )
    # Instants: the first two hours of the 23rd (WIB) hold the six reports of 08:00.
    status, body = await seeded.get(
        "/api/stats", **{"from": "2026-11-23T07:00:00+07:00", "to": "2026-11-23T09:00:00+07:00"}
    )
    assert (status, body["received"]["total"]) == (200, 6)
    status, body = await seeded.get("/api/stats", **{"from": "2026-11-24"})
    assert (status, body["received"]) == (200, {"total": 1, "by_channel": {"whatsapp": 1}})
    assert await seeded.get("/api/stats", **{"from": "soon"}) == (
        400,
        {"error": "`from` must be a date (YYYY-MM-DD) or an ISO 8601 time"},
    )
    response = await seeded.client.get("/api/stats")
    assert response.status == 401


def kept_on_tickets(database_url: str) -> dict[str, tuple[Any, ...]]:
    db = Database(database_url)
    with db.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT number, first_response_at, reopened_by_reporter, checkback_rating"
                " FROM tickets"
            )
        ).all()
    db.dispose()
    return {n: (str(first)[:19] if first else None, bool(again), r) for n, first, again, r in rows}


async def test_the_upgrade_finds_what_the_writers_keep(seeded: Api, database_url: str) -> None:
    """Migration 0012 reads the same first responses, reopens and ratings out of the history
    as the writers keep on the tickets (what the statistics read)."""
    answer = replace(
        digest_report(2, seeded.clock), external_id="wamid.digest2-again", text="Belum, 2"
    )
    await seeded.runtime.intake.submit([answer])  # 00002 was resolved: its reporter reopens it
    kept = kept_on_tickets(database_url)
    assert kept["LBP-2026-00002"] == ("2026-11-23 01:30:00", True, 2)
    assert kept["LBP-2026-00007"] == ("2026-11-23 19:00:00", False, None)
    assert kept["LBP-2026-00008"] == (None, False, None)
    period = {"from": "2026-11-01", "to": "2026-11-24"}
    status, month = await seeded.get("/api/stats", **period)
    assert month["satisfaction"]["by_opd"]["pupr"] == {
        "resolved": 1,
        "reopened": 1,
        "reopened_share": 1.0,
        "rated": 1,
        "mean_rating": 2.0,
    }
    config = alembic_config(database_url)
    command.stamp(config, "head")  # made by create_all
    command.downgrade(config, "0010")
    command.upgrade(config, "head")
    assert kept_on_tickets(database_url) == kept
    assert await seeded.get("/api/stats", **period) == (status, month)
