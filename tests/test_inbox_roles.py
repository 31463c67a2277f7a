"""Who sees what: an OPD's liaison sees exactly the tickets currently forwarded to its OPD (API,
pages, queue, and the data left by older versions), and only managers read the region's
statistics; on SQLite and PostgreSQL through the real runtime."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text

from api_client import Api, report, running_api
from inbox_site import add_staff, browser
from store.db import Database
from store.migrate import alembic_config, upgrade
from support.command_line import run_main

REPO = Path(__file__).resolve().parent.parent

NUMBER = "LBP-2026-00001"


@pytest.fixture
async def api(database_url: str, tmp_path: Path, clock) -> AsyncIterator[Api]:
    async with running_api(database_url, tmp_path, clock) as running:
        add_staff(running, "dishub1", "opd", opd="dishub")
        yield running


async def handed_from_pupr_to_dishub(api: Api, pupr: str) -> None:
    """Forwarded to PUPR, resolved by it, reopened, verified with Dishub's category."""
    await api.runtime.intake.submit([report(1)])
    await api.act(NUMBER, {"action": "verify", "category": "jalan"})
    await api.act(NUMBER, {"action": "forward"})
    status, _ = await api.act(NUMBER, {"action": "resolve", "message": "Sudah."}, token=pupr)
    assert status == 200
    assert (await api.act(NUMBER, {"action": "reopen"}))[0] == 200
    status, body = await api.act(NUMBER, {"action": "verify", "category": "pju"})
    assert (status, body["status"], body["opd"]) == (200, "new", "dishub")


async def test_a_reopened_ticket_verified_for_another_opd_is_seen_by_no_opd(api: Api) -> None:
    pupr = api.token_for("pupr1", "opd", opd="pupr")
    dishub = api.token_for("dishub2", "opd", opd="dishub")
    await handed_from_pupr_to_dishub(api, pupr)

    for token in (pupr, dishub):  # neither has it now: the operators do
        assert (await api.get(f"/api/tickets/{NUMBER}", token=token))[0] == 404
        assert (await api.get("/api/tickets", token=token))[1]["items"] == []
        answer = {"action": "resolve", "message": "Selesai"}
        assert (await api.act(NUMBER, answer, token=token))[0] == 404
    async with browser(api) as liaison:
        await liaison.sign_in("dishub1")
        assert (await liaison.page(f"/tickets/{NUMBER}"))[0] == 404
        status, html = await liaison.page("/", status="all")
        assert (status, NUMBER in html) == (200, False)

    status, body = await api.act(NUMBER, {"action": "forward"})
    assert (status, body["status"]) == (200, "forwarded")
    assert (await api.get(f"/api/tickets/{NUMBER}", token=dishub))[0] == 200
    assert (await api.get(f"/api/tickets/{NUMBER}", token=pupr))[0] == 404
    async with browser(api) as liaison:
        await liaison.sign_in("dishub1")
        assert (await liaison.page(f"/tickets/{NUMBER}"))[0] == 200
        assert NUMBER in (await liaison.page("/"))[1]


async def test_the_region_statistics_are_for_supervisors_and_admins(api: Api) -> None:
    await api.runtime.intake.submit([report(1)])
    head = api.token_for("kepala", "supervisor")
    admin = api.token_for("admin1", "admin")
    liaison = api.token_for("pupr1", "opd", opd="pupr")
    for token in (liaison, api.token):  # an OPD, an operator
        status, body = await api.get("/api/stats", token=token)
        assert status == 403
        assert body == {"error": "only supervisors and admins may read the statistics"}
    for token in (head, admin):
        status, body = await api.get("/api/stats", token=token)
        assert (status, body["received"]["total"]) == (200, 1)


@pytest.mark.empty_database  # Alembic builds the schema itself
async def test_upgrading_clears_the_due_time_left_on_tickets_no_opd_has(
    database_url: str, tmp_path: Path, clock
) -> None:
    """Data written before the fix kept `opd_due_at` through reopen and verify: the upgrade
    clears it where no OPD has the ticket, and keeps it where one does."""
    upgrade(database_url)  # today's code writes the tickets, on today's schema ...
    async with running_api(database_url, tmp_path, clock) as api:
        pupr = api.token_for("pupr1", "opd", opd="pupr")
        await handed_from_pupr_to_dishub(api, pupr)
        await api.runtime.intake.submit([report(2)])
        await api.act("LBP-2026-00002", {"action": "verify", "category": "jalan"})
        await api.act("LBP-2026-00002", {"action": "forward"})
    # ... taken back to the schema just before 0004_opd_sight (later columns dropped)
    command.downgrade(alembic_config(database_url), "0003")
    db = Database(database_url)
    with db.engine.begin() as conn:  # what the old code left behind
        conn.execute(
            text(
                "UPDATE tickets SET opd_due_at = (SELECT opd_due_at FROM tickets AS t"
                " WHERE t.number = 'LBP-2026-00002') WHERE number = :n"
            ),
            {"n": NUMBER},
        )
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "{database_url}"\n')
    done = run_main(config, "db", "upgrade")
    assert done.returncode == 0, done.stderr
    with db.engine.connect() as conn:
        rows = conn.execute(text("SELECT number, opd_due_at IS NULL FROM tickets")).all()
    db.dispose()
    assert sorted((n, bool(cleared)) for n, cleared in rows) == [
        (NUMBER, True),
        ("LBP-2026-00002", False),
    ]
