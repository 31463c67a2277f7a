"""The queue page: filters, counts per filter, what needs action first, paging, the live
fragment, and an OPD's narrower view; on SQLite and PostgreSQL through the real runtime."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from api_client import Api, report, running_api
from inbox_site import add_staff, browser
from store.queue import PAGE_SIZE
from support.waiting import until

ROW = re.compile(r'class="ticket-row" data-number="([^"]+)"')


def numbers(html: str) -> list[str]:
    return ROW.findall(html)


def ticket(n: int) -> str:
    return f"LBP-2026-{n:05d}"


@pytest.fixture
async def api(database_url: str, tmp_path: Path, clock) -> AsyncIterator[Api]:
    async with running_api(database_url, tmp_path, clock) as running:
        add_staff(running, "siti", "operator")
        add_staff(running, "pupr1", "opd", opd="pupr")
        yield running


async def seed(api: Api) -> None:
    """1: new; 2: clarifying then answered; 3: forwarded to PUPR; 4: email, rejected;
    5: forwarded to Dishub and overdue."""
    intake = api.runtime.intake
    await intake.submit([report(1, text="Jalan berlubang di Desa Kayen")])
    await intake.submit([report(2, text="Sampah menumpuk di pasar")])
    await intake.submit([report(3, text="Jembatan retak di Juwana")])
    await intake.submit([report(4, channel="email", text="Mohon info layanan KTP")])
    await intake.submit([report(5, text="Lampu jalan mati di alun-alun")])
    await api.act(ticket(2), {"action": "request_clarification", "facts": ["location"]})
    await api.act(ticket(4), {"action": "reject", "resolution": "spam"})
    await api.act(ticket(5), {"action": "verify", "category": "pju"})
    await api.act(ticket(5), {"action": "forward"})
    api.clock.advance(timedelta(days=12))  # Dishub's seven working days have passed
    await api.act(ticket(3), {"action": "verify", "category": "jalan"})
    await api.act(ticket(3), {"action": "forward"})
    await api.act(ticket(3), {"action": "acknowledge"})
    await intake.submit([replace(report(2, text="Lokasinya di depan pasar"), external_id="a2")])


async def test_the_queue_puts_what_needs_action_first_and_counts_every_filter(api: Api) -> None:
    await seed(api)
    async with browser(api) as b:
        await b.sign_in("siti")
        status, html = await b.page("/")
        assert status == 200
        # Overdue first (1 on the operators' verify clock, then 5 on Dishub's), then the
        # nearest deadline (2's verify clock restarted when the reporter answered, before 3's
        # OPD clock); closed hidden.
        assert numbers(html) == [ticket(1), ticket(5), ticket(2), ticket(3)]
        assert "Status" in html and "Terbuka (4)" in html and "Ditutup (1)" in html
        assert "Semua (5)" in html
        assert 'Lewat tenggat (<span data-count-key="special.overdue">2</span>)' in html
        assert 'Pelapor membalas (<span data-count-key="special.answered">1</span>)' in html
        assert "WhatsApp (4)" in html
        assert "Penerangan jalan (1)" in html
        assert "Dinas Perhubungan (1)" in html


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "closed"}, [4]),
        ({"status": "all"}, [1, 5, 2, 3, 4]),
        ({"status": "forwarded"}, [5]),
        ({"channel": "email", "status": "all"}, [4]),
        ({"category": "jalan"}, [3]),
        ({"opd": "dishub"}, [5]),
        ({"overdue": "1"}, [1, 5]),
        ({"answered": "1"}, [2]),
        ({"q": "PASAR"}, [2]),
        ({"q": "LBP-2026-00003"}, [3]),
        ({"q": "Warga 1"}, [1]),
        ({"q": "100%_"}, []),
    ],
)
async def test_each_filter_narrows_the_queue(
    api: Api, params: dict[str, str], expected: list[int]
) -> None:
    await seed(api)
    async with browser(api) as b:
        await b.sign_in("siti")
        status, html = await b.page("/", **params)
        assert status == 200
        assert numbers(html) == [ticket(n) for n in expected]
        if not expected:
            assert "Tidak ada laporan yang cocok." in html


async def test_flag_filters_read_the_triage_hints(api: Api) -> None:
    await api.runtime.intake.submit([report(1, text="Jalan rusak parah di Desa Kayen")])

    async def assessed() -> bool:
        _, body = await api.get(f"/api/tickets/{ticket(1)}")
        return "missing" in body["flags"]

    await until(assessed)
    await api.runtime.intake.submit(
        [report(2, sender="628120009999", text="Jalan rusak parah di Desa Kayen")]
    )

    async def flagged() -> bool:
        _, body = await api.get(f"/api/tickets/{ticket(2)}")
        return body["flags"].get("duplicate_of") == ticket(1)

    await until(flagged)
    async with browser(api) as b:
        await b.sign_in("siti")
        _, html = await b.page("/", flag="duplicate")
        assert numbers(html) == [ticket(2)]
        assert "Kemungkinan duplikat (1)" in html
        _, html = await b.page("/", flag="out_of_jurisdiction")
        assert numbers(html) == []


async def test_the_queue_is_paged(api: Api) -> None:
    await api.runtime.intake.submit([report(n) for n in range(1, PAGE_SIZE + 3)])
    async with browser(api) as b:
        await b.sign_in("siti")
        _, first = await b.page("/")
        _, second = await b.page("/", page="2")
        assert len(numbers(first)) == PAGE_SIZE
        # Same deadline, same arrival: the newest (highest number) first.
        assert numbers(second) == [ticket(2), ticket(1)]
        assert "Halaman 1 dari 2" in first and "Halaman 2 dari 2" in second
        assert "page=2" in first


async def test_the_live_fragment_shows_a_new_report(api: Api) -> None:
    await api.runtime.intake.submit([report(1)])
    async with browser(api) as b:
        await b.sign_in("siti")
        _, page = await b.page("/")
        assert 'data-poll="/?partial=1&amp;since=2026-11-23T02:00:00%2B00:00"' in page
        _, before = await b.page("/", partial="1")
        assert "<html" not in before
        assert numbers(before) == [ticket(1)]
        await api.runtime.intake.submit([report(2)])
        _, after = await b.page("/", partial="1")
        assert numbers(after) == [ticket(2), ticket(1)]


async def test_an_opd_sees_only_the_tickets_forwarded_to_it(api: Api) -> None:
    await seed(api)
    # Verified with PUPR's category but not forwarded yet: not PUPR's to see.
    await api.act(ticket(1), {"action": "verify", "category": "jalan"})
    async with browser(api) as b:
        await b.sign_in("pupr1")
        _, html = await b.page("/", status="all")
        assert numbers(html) == [ticket(3)]
        assert "Semua (1)" in html
        assert (await b.page(f"/tickets/{ticket(5)}"))[0] == 404
        assert (await b.page(f"/tickets/{ticket(1)}"))[0] == 404
        assert (await b.page(f"/tickets/{ticket(3)}"))[0] == 200
