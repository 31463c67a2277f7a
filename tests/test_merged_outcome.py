"""Reporters of merged tickets hear how the surviving ticket ended, also when a sweep closes it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select

from api_client import Api, report, running_api
from store.models import Message, Ticket


@pytest.fixture
async def api(database_url: str, tmp_path: Path, clock) -> AsyncIterator[Api]:
    async with running_api(database_url, tmp_path, clock) as running:
        yield running


def sent_to(api: Api, number: str) -> list[str]:
    with api.runtime.db.read() as session:
        ticket = session.exec(select(Ticket).where(Ticket.number == number)).one()
        query = select(Message.text).where(
            Message.ticket_id == ticket.id, Message.direction == "out"
        )
        return list(session.exec(query.order_by(col(Message.id))))


async def test_a_sweep_closing_the_survivor_tells_the_merged_reporters(api: Api) -> None:
    await api.runtime.intake.submit([report(1), report(2)])
    assert (await api.act("LBP-2026-00002", {"action": "merge", "into": "LBP-2026-00001"}))[
        0
    ] == 200
    assert (await api.act("LBP-2026-00001", {"action": "request_clarification"}))[0] == 200
    api.clock.advance(timedelta(days=4))
    report_ = vars(await asyncio.to_thread(api.runtime.sweeps.run))
    assert report_["closed"] == 1

    told = sent_to(api, "LBP-2026-00002")[-1]
    assert told.startswith(
        "Laporan LBP-2026-00001, yang sama dengan laporan Anda LBP-2026-00002, sudah kami tutup"
    )
    _, survivor = await api.get("/api/tickets/LBP-2026-00001")
    assert survivor["events"][-1]["data"] == {"told_merged": ["LBP-2026-00002"]}


async def test_a_ticket_nothing_was_merged_into_tells_no_one_else(api: Api) -> None:
    await api.runtime.intake.submit([report(1), report(2)])
    assert (await api.act("LBP-2026-00001", {"action": "resolve", "message": "Sudah."}))[0] == 200
    assert sent_to(api, "LBP-2026-00002") == []
    _, ticket = await api.get("/api/tickets/LBP-2026-00001")
    assert ticket["events"][-1]["data"] == {}
