"""One verify-and-forward step on the ticket page and the API: the OPD starts as the category's,
can be changed, and both transitions happen in one transaction or not at all; names, not codes,
on the page. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from api_client import Api, report, running_api
from inbox_site import add_staff, browser

NUMBER = "LBP-2026-00001"


async def until(condition: Callable[[], Awaitable[bool]], seconds: float = 10) -> None:
    async with asyncio.timeout(seconds):
        while not await condition():
            await asyncio.sleep(0.02)


@pytest.fixture
async def api(database_url: str, tmp_path: Path, clock) -> AsyncIterator[Api]:
    async with running_api(database_url, tmp_path, clock) as running:
        add_staff(running, "siti", "operator")
        yield running


async def test_the_verify_form_starts_with_the_categorys_opd_by_name(api: Api) -> None:
    await api.runtime.intake.submit([report(1, text="Lampu mati di alun-alun")])

    async def assessed() -> bool:
        return bool((await api.get(f"/api/tickets/{NUMBER}"))[1]["flags"].get("suggestions"))

    await until(assessed)
    async with browser(api) as b:
        await b.sign_in("siti")
        _, html = await b.page(f"/tickets/{NUMBER}")
    verify = html[
        html.index('id="act-verify"') : html.index("</details>", html.index('id="act-verify"'))
    ]
    assert '<details class="action" id="act-verify" open>' in html  # the first step, open
    assert '<option value="dishub" selected>Dinas Perhubungan</option>' in verify
    assert 'data-opd="dishub" selected>Penerangan jalan</option>' in verify
    assert 'data-action="verify_forward">Verifikasi dan teruskan</button>' in verify
    assert 'data-action="forward"' not in html  # no second form for the same step
    assert f"Laporan {NUMBER} sudah kami teruskan ke Dinas Perhubungan" in verify  # before it goes


async def test_one_submit_verifies_and_forwards_to_the_chosen_opd(api: Api) -> None:
    await api.runtime.intake.submit([report(1)])
    async with browser(api) as b:
        await b.sign_in("siti")
        response = await b.act(NUMBER, action="verify", category="jalan", opd="dishub", forward="1")
        assert (response.status, response.headers["Location"]) == (
            303,
            f"/tickets/{NUMBER}?done=verify_forward",
        )
        _, html = await b.page(f"/tickets/{NUMBER}", done="verify_forward")
    _, body = await api.get(f"/api/tickets/{NUMBER}")
    assert (body["status"], body["category"], body["opd"]) == ("forwarded", "jalan", "dishub")
    assert [e["action"] for e in body["events"]] == ["opened", "verify", "forward"]
    assert body["messages"][-1]["text"].startswith(
        f"Laporan {NUMBER} sudah kami teruskan ke Dinas Perhubungan"
    )
    assert "Tindakan tersimpan. (Verifikasi dan teruskan)" in html
    assert '<dd id="ticket-category">Jalan dan jembatan</dd>' in html
    assert '<dd id="ticket-opd">Dinas Perhubungan</dd>' in html
    assert ">jalan<" not in html and ">dishub<" not in html


async def test_verify_only_keeps_the_ticket_new_and_says_it_is_verified(api: Api) -> None:
    await api.runtime.intake.submit([report(1)])
    async with browser(api) as b:
        await b.sign_in("siti")
        assert (await b.act(NUMBER, action="verify", category="jalan")).status == 303
        _, html = await b.page(f"/tickets/{NUMBER}")
    assert 'id="verified-badge">Terverifikasi</span>' in html
    assert (
        'Dinas Pekerjaan Umum dan Penataan Ruang <span class="muted">(usulan, belum diteruskan)'
        in html
    )
    _, body = await api.get(f"/api/tickets/{NUMBER}")
    assert (body["status"], body["opd"]) == ("new", "pupr")


async def test_a_failed_forward_leaves_the_ticket_unverified(api: Api) -> None:
    await api.runtime.intake.submit([report(1)])
    status, _ = await api.act(
        NUMBER, {"action": "verify", "category": "jalan", "opd": "nope", "forward": True}
    )
    assert status == 422
    status, _ = await api.act(NUMBER, {"action": "verify", "category": "jalan", "forward": True})
    assert status == 200
    _, body = await api.get(f"/api/tickets/{NUMBER}")
    assert (body["status"], body["opd"]) == ("forwarded", "pupr")
    assert [e["action"] for e in body["events"]] == ["opened", "verify", "forward"]


async def test_an_empty_opd_on_the_form_means_the_categorys(api: Api) -> None:
    await api.runtime.intake.submit([report(1)])
    async with browser(api) as b:
        await b.sign_in("siti")
        response = await b.act(NUMBER, action="verify", category="jalan", opd="", forward="1")
    assert response.status == 303
    _, body = await api.get(f"/api/tickets/{NUMBER}")
    assert (body["status"], body["opd"]) == ("forwarded", "pupr")
