"""Triage end to end through the HTTP API: silent reporters are closed, answered reports go to an
OPD on working-day deadlines and escalate when late; on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from api_client import Api, running_api
from channels.base import Attachment, AttachmentKind, InboundMessage, Location
from support.waiting import until
from triage.config import TriageConfig


@pytest.fixture
async def api(database_url: str, tmp_path: Path, clock) -> AsyncIterator[Api]:
    triage = TriageConfig(clarification_timeout="3d", reminder_before="1d")
    async with running_api(database_url, tmp_path, clock, triage=triage) as running:
        yield running


def whatsapp(n: int, text: str, clock, reporter: int = 1, **extra: Any) -> InboundMessage:
    return InboundMessage(
        channel="whatsapp",
        account="1234567890",
        external_id=f"wamid.flow{n}",
        sender_id=f"62813000{reporter:04d}",
        sent_at=clock(),
        text=text,
        display_name=f"Warga {reporter}",
        contact=f"+62813000{reporter:04d}",
        **extra,
    )


async def sweep(api: Api) -> dict[str, int]:
    return vars(await asyncio.to_thread(api.runtime.sweeps.run))


async def test_a_silent_reporter_is_reminded_then_closed_with_a_message(api: Api) -> None:
    clock = api.clock
    await api.runtime.intake.submit(
        [whatsapp(1, "Jalannya berlubang besar, bahaya buat motor", clock)]
    )

    async def flagged() -> Any:
        body = (await api.get("/api/tickets/LBP-2026-00001"))[1]
        return body if "missing" in body["flags"] else None

    ticket = await until(flagged)
    assert ticket["flags"]["missing"] == ["location", "photo"]
    assert ticket["flags"]["suggestions"][0]["category"] == "jalan"
    status, ticket = await api.act("LBP-2026-00001", {"action": "request_clarification"})
    assert (status, ticket["status"]) == (200, "clarifying")
    # Monday 09:00 WIB plus three days.
    assert ticket["clarification_due_at"] == "2026-11-26T09:00:00+07:00"
    assert ticket["messages"][-1]["text"] == (
        "Laporan LBP-2026-00001: agar dapat kami tindak lanjuti, mohon lengkapi:\n"
        "1. lokasi kejadian: kirim lokasi (share location) atau tulis alamat lengkap "
        "(jalan/dukuh, desa, kecamatan)\n"
        "2. foto atau video yang menunjukkan masalahnya\n"
        "Cukup balas pesan ini paling lambat Kamis, 26 November 2026 pukul 09.00 WIB. Bila "
        "tidak ada balasan, laporan akan kami tutup."
    )

    clock.advance(timedelta(days=1))
    assert (await sweep(api))["reminded"] == 0
    clock.advance(timedelta(days=1, hours=1))
    assert (await sweep(api))["reminded"] == 1
    assert (await sweep(api))["reminded"] == 0  # once per request
    clock.advance(timedelta(hours=23))
    assert (await sweep(api))["closed"] == 1
    assert (await sweep(api))["closed"] == 0

    ticket = (await api.get("/api/tickets/LBP-2026-00001"))[1]
    assert (ticket["status"], ticket["resolution"]) == ("closed", "no_response")
    assert [e["action"] for e in ticket["events"]] == [
        "opened",
        "request_clarification",
        "remind",
        "auto_close",
    ]
    assert ticket["events"][-1]["actor"] == "system"
    reminder, closing = ticket["messages"][-2:]
    assert reminder["text"].startswith("Pengingat: laporan LBP-2026-00001 masih menunggu")
    assert closing["text"] == (
        "Laporan LBP-2026-00001 kami tutup karena belum ada balasan. Bila masalahnya masih ada, "
        "silakan kirim laporan baru lewat saluran ini, lengkap dengan lokasi dan foto."
    )
    assert closing["direction"] == "out"


async def test_an_answered_report_is_forwarded_escalated_and_resolved(api: Api) -> None:
    clock = api.clock
    await api.runtime.intake.submit([whatsapp(2, "Lampu PJU mati di jalan raya", clock)])
    await api.act("LBP-2026-00001", {"action": "request_clarification", "facts": ["location"]})
    clock.advance(timedelta(hours=2))
    photo = Attachment(AttachmentKind.IMAGE, "image/jpeg", media_ref="m1")
    await api.runtime.intake.submit(
        [
            whatsapp(
                3, "Ini lokasinya", clock, location=Location(-6.75, 111.04), attachments=(photo,)
            )
        ]
    )
    _, ticket = await api.get("/api/tickets/LBP-2026-00001")
    assert (ticket["status"], ticket["answered"]) == ("new", True)
    assert (await sweep(api))["closed"] == 0

    await api.act("LBP-2026-00001", {"action": "verify", "category": "pju"})
    _, ticket = await api.act("LBP-2026-00001", {"action": "forward"})
    assert (ticket["status"], ticket["opd"]) == ("forwarded", "dishub")
    # Monday 11:00 WIB; seven working days for Dishub, fourteen for the whole case.
    assert ticket["opd_due_at"] == "2026-12-02T23:59:59.999999+07:00"
    assert ticket["due_at"] == "2026-12-11T23:59:59.999999+07:00"

    clock.advance(timedelta(days=9, hours=17))  # Thursday 3 December, 04:00 WIB
    report = await sweep(api)
    assert (report["escalated_opd"], report["escalated_overall"]) == (1, 0)
    assert (await sweep(api))["escalated_opd"] == 0  # recorded once per due time
    _, ticket = await api.act("LBP-2026-00001", {"action": "acknowledge"})
    clock.advance(timedelta(days=9))
    assert (await sweep(api))["escalated_overall"] == 1
    _, ticket = await api.act(
        "LBP-2026-00001", {"action": "resolve", "message": "Lampu sudah diganti oleh Dishub."}
    )
    assert (ticket["status"], ticket["resolution"]) == ("resolved", "resolved")
    escalations = [e["data"] for e in ticket["events"] if e["action"] == "escalate"]
    assert [(e["kind"], e["opd"]) for e in escalations] == [
        ("opd_overdue", "dishub"),
        ("overall_overdue", "dishub"),
    ]
    assert escalations[0]["hours_late"] == 4.0
    # ..., the resolve and its check-back question (issue 18)
    directions = [m["direction"] for m in ticket["messages"]]
    assert directions == ["in", "out", "in", "out", "out", "out"]


async def test_the_operators_own_clock_runs_from_arrival_and_from_an_answer(api: Api) -> None:
    clock = api.clock
    await api.runtime.intake.submit([whatsapp(4, "Sampah menumpuk di pasar", clock)])
    _, ticket = await api.get("/api/tickets/LBP-2026-00001")
    # Monday 09:00 WIB: three working days for the operators (SP4N-LAPOR!).
    assert ticket["verify_due_at"] == "2026-11-26T23:59:59.999999+07:00"

    _, ticket = await api.act("LBP-2026-00001", {"action": "request_clarification"})
    assert ticket["verify_due_at"] is None  # asking is acting
    clock.advance(timedelta(days=1))
    await api.runtime.intake.submit([whatsapp(5, "Di depan Pasar Puri", clock)])
    _, ticket = await api.get("/api/tickets/LBP-2026-00001")
    assert ticket["verify_due_at"] == "2026-11-27T23:59:59.999999+07:00"  # from the answer

    clock.advance(timedelta(days=4))  # Saturday 28 November
    assert (await sweep(api))["escalated_verify"] == 1
    assert (await sweep(api))["escalated_verify"] == 0
    _, ticket = await api.act("LBP-2026-00001", {"action": "verify", "category": "jalan"})
    assert ticket["verify_due_at"] is None
    [late] = [e for e in ticket["events"] if e["action"] == "escalate"]
    assert (late["from_state"], late["data"]["kind"]) == ("new", "verify_overdue")
