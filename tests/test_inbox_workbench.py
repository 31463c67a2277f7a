"""The operator's workbench (issue 17): every deadline visible and counted, the queue's order,
views, page size and live counts, assignment, search over every status; through the real
runtime on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from api_client import Api, report, running_api
from inbox_site import add_staff, browser

ROW = re.compile(r'class="ticket-row[^"]*" data-number="([^"]+)"')
OVERDUE = 'Lewat tenggat (<span data-count-key="special.overdue">{}</span>)'
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
        assert "Verifikasi" in html and OVERDUE.format(0) in html
        api.clock.now = VERIFY_DUE - timedelta(hours=3)
        await b.sign_in("siti")  # days later: the session has ended
        _, html = await b.page("/")
        assert DUE.findall(html) == [("verify", "soon")]
        api.clock.now = VERIFY_DUE + timedelta(hours=1)
        await b.sign_in("siti")
        _, html = await b.page("/")
        assert DUE.findall(html) == [("verify", "late")]
        assert OVERDUE.format(1) in html
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


# --- assignment ---------------------------------------------------------------------------------


async def test_take_assign_release_through_the_api_with_the_audit_trail(api: Api) -> None:
    await api.runtime.intake.submit([report(1)])
    siti, budi = api.token_for("siti2", "operator"), api.token_for("budi2", "operator")
    status, body = await api.act(ticket(1), {"action": "assign"}, token=siti)
    assert (status, body["assignee"]) == (200, "siti2")
    assert body["assigned_at"].startswith("2026-11-23T09:00")
    # Another operator is asked first (409 with the holder), then may act with the confirmation.
    status, body = await api.act(ticket(1), {"action": "verify", "category": "jalan"}, token=budi)
    assert (status, body["holder"], body["action"]) == (409, "siti2", "verify")
    status, body = await api.act(ticket(1), {"action": "note", "text": "cek"}, token=budi)
    assert status == 200  # a note disturbs nobody
    response = await api.client.post(
        f"/api/tickets/{ticket(1)}/actions?confirm=held",
        json={"action": "verify", "category": "jalan"},
        headers=api.headers(budi),
    )
    assert response.status == 200
    # The holder acts freely; assigning to a stranger or an OPD account is refused.
    status, _ = await api.act(ticket(1), {"action": "forward"}, token=siti)
    assert status == 200
    pupr = api.token_for("pupr1", "opd", opd="pupr")
    status, body = await api.act(ticket(1), {"action": "assign", "assignee": "pupr1"}, token=siti)
    assert (status, body["error"]) == (422, "'pupr1' is not an operator who can hold a ticket")
    status, body = await api.act(ticket(1), {"action": "assign", "assignee": "budi2"}, token=siti)
    assert (status, body["assignee"]) == (200, "budi2")
    # The OPD answers for the department whoever holds the ticket.
    status, _ = await api.act(ticket(1), {"action": "acknowledge"}, token=pupr)
    assert status == 200
    status, body = await api.act(ticket(1), {"action": "release"}, token=budi)
    assert (status, body["assignee"], body["assigned_at"]) == (200, None, None)
    status, body = await api.act(ticket(1), {"action": "release"}, token=budi)
    assert (status, body["error"]) == (422, "nobody holds this ticket")
    _, body = await api.get(f"/api/tickets/{ticket(1)}")
    trail = [(e["action"], e["actor"], e["data"]) for e in body["events"]]
    assert ("assign", "siti2", {"assignee": "siti2", "previous": None}) in trail
    assert ("assign", "siti2", {"assignee": "budi2", "previous": "siti2"}) in trail
    assert ("release", "budi2", {"previous": "budi2"}) in trail


async def test_the_page_shows_the_holder_and_asks_before_acting_on_a_held_ticket(
    api: Api,
) -> None:
    await api.runtime.intake.submit([report(1)])
    async with browser(api) as siti, browser(api) as budi:
        await siti.sign_in("siti")
        await budi.sign_in("budi")
        taken = await siti.post_form(
            f"/tickets/{ticket(1)}/actions", {"action": "assign"}, from_page=f"/tickets/{ticket(1)}"
        )
        assert taken.status == 303
        _, html = await budi.page(f"/tickets/{ticket(1)}")
        assert 'data-holder="siti"' in html and "siti, sejak" in html
        asked = await budi.act(ticket(1), action="verify", category="jalan")
        html = await asked.text()
        assert asked.status == 200 and 'id="held-confirm"' in html
        assert "Laporan ini sedang dipegang oleh siti. Tetap lakukan “Verifikasi”?" in html
        _, body = await api.get(f"/api/tickets/{ticket(1)}")
        assert body["verified"] is False
        confirmed = await budi.act(ticket(1), action="verify", category="jalan", confirm="held")
        assert confirmed.status == 303
        _, body = await api.get(f"/api/tickets/{ticket(1)}")
        assert body["verified"] is True and body["assignee"] == "siti"
        _, html = await budi.page("/")
        assert 'class="holder-cell" data-holder="siti"' in html


# --- queue order, views, page size, live counts, search -----------------------------------------


async def five_reports(api: Api) -> None:
    """1 and 2 Monday 08:00; 3 an hour later; then 1 is taken by siti and forwarded, 2 resolved
    (closed), 4 and 5 arrive on Thursday; the clock stops on Friday 27 Nov, 10:00 WIB."""
    await api.runtime.intake.submit([report(1), report(2)])
    api.clock.advance(timedelta(hours=1))
    await api.runtime.intake.submit([report(3)])
    siti = api.token_for("siti3", "operator")
    await api.act(ticket(1), {"action": "assign"}, token=siti)
    await api.act(ticket(1), {"action": "verify", "category": "jalan"}, token=siti)
    await api.act(ticket(1), {"action": "forward"}, token=siti)
    await api.act(ticket(2), {"action": "resolve", "message": "Sudah diperbaiki."})
    api.clock.now = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
    await api.runtime.intake.submit([report(4), report(5)])
    api.clock.now = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)


async def test_urgency_first_then_other_orders_and_page_sizes(api: Api) -> None:
    await five_reports(api)
    async with browser(api) as b:
        await b.sign_in("siti")
        _, html = await b.page("/")
        # 3 is past its verify clock; then the nearest deadline: 4 and 5 (newest first), then 1.
        assert numbers(html) == [ticket(3), ticket(5), ticket(4), ticket(1)]
        _, html = await b.page("/", sort="newest")
        assert numbers(html) == [ticket(5), ticket(4), ticket(3), ticket(1)]
        _, html = await b.page("/", sort="oldest")
        assert numbers(html) == [ticket(1), ticket(3), ticket(4), ticket(5)]
        _, html = await b.page("/", sort="oldest", per="50", status="all")
        assert numbers(html) == [ticket(n) for n in (1, 2, 3, 4, 5)]
        assert 'value="50" selected' in html


@pytest.mark.parametrize(
    ("view", "expected"),
    [
        ("mine", [1]),
        ("unassigned", [3, 5, 4]),
        ("overdue", [3]),
        ("with_opd", [1]),
        ("answered", []),
    ],
)
async def test_saved_views(api: Api, view: str, expected: list[int]) -> None:
    await five_reports(api)
    async with browser(api) as b:
        await b.sign_in("siti3")  # the token's user has a password like every staff account
        _, html = await b.page("/", view=view)
        assert numbers(html) == [ticket(n) for n in expected]
        assert f'data-count-key="views.{view}">{len(expected)}<' in html


async def test_search_finds_a_closed_ticket_and_the_status_refines_it(api: Api) -> None:
    await five_reports(api)
    async with browser(api) as b:
        await b.sign_in("siti")
        _, html = await b.page("/", q=ticket(2))
        assert numbers(html) == [ticket(2)]
        _, html = await b.page("/", q=ticket(2), status="open")
        assert numbers(html) == []
        _, html = await b.page("/", q="Warga 2", status="resolved")
        assert numbers(html) == [ticket(2)]
    _, body = await api.get("/api/tickets", q=ticket(2))
    assert [t["number"] for t in body["items"]] == [ticket(2)]


async def test_the_live_list_carries_every_count_and_marks_what_is_new(api: Api) -> None:
    await five_reports(api)
    async with browser(api) as b:
        await b.sign_in("siti")
        opened = api.clock.now
        _, page = await b.page("/")
        assert "data-new" not in page
        api.clock.advance(timedelta(minutes=5))
        await api.runtime.intake.submit([report(6)])
        _, fresh = await b.page("/", partial="1", since=opened.isoformat())
        assert re.findall(r'data-number="([^"]+)" data-new="1"', fresh) == [ticket(6)]
        assert "Baru masuk" in fresh
        counts = re.search(r'data-counts="([^"]+)"', fresh)
        assert counts is not None
        assert "&#34;views.unassigned&#34;: 4" in counts.group(1)
        assert "&#34;status.open&#34;: 5" in counts.group(1)


async def test_bulk_assign_reject_as_spam_and_merge(api: Api) -> None:
    await five_reports(api)
    async with browser(api) as siti, browser(api) as budi:
        await siti.sign_in("siti")
        await budi.sign_in("budi")

        picked = [("numbers", ticket(n)) for n in (3, 4, 5)]
        _, html = await siti.page("/")
        token = re.search(r'name="csrf" value="([^"]*)"', html)
        assert token is not None
        sent = await siti.http.post(
            "/queue/bulk",
            data=[("csrf", token.group(1)), *picked, ("op", "assign"), ("assignee", "budi")],
            allow_redirects=False,
        )
        assert sent.headers["Location"] == "/?bulk=3&skipped="
        # siti does not hold them any more: her spam run skips them all.
        sent = await siti.http.post(
            "/queue/bulk",
            data=[("csrf", token.group(1)), *picked[1:], ("op", "spam"), ("reason", "iklan")],
            allow_redirects=False,
        )
        assert sent.headers["Location"] == f"/?bulk=0&skipped={ticket(4)}+{ticket(5)}"
        _, html = await budi.page("/")
        token = re.search(r'name="csrf" value="([^"]*)"', html)
        assert token is not None
        sent = await budi.http.post(
            "/queue/bulk",
            data=[("csrf", token.group(1)), ("numbers", ticket(4)), ("op", "spam")],
            allow_redirects=False,
        )
        assert sent.headers["Location"] == "/?bulk=1&skipped="
        sent = await budi.http.post(
            "/queue/bulk",
            data=[
                ("csrf", token.group(1)),
                ("numbers", ticket(3)),
                ("numbers", ticket(5)),
                ("op", "merge"),
                ("into", ticket(3)),
            ],
            allow_redirects=False,
        )
        assert sent.headers["Location"] == "/?bulk=1&skipped="
        _, html = await budi.page("/", bulk="1", skipped="")
        assert "1 laporan diproses." in html
    _, four = await api.get(f"/api/tickets/{ticket(4)}")
    _, five = await api.get(f"/api/tickets/{ticket(5)}")
    assert (four["status"], four["resolution"]) == ("closed", "spam")
    assert (five["resolution"], five["merged_into"]) == ("duplicate", ticket(3))


async def test_bulk_mark_read_takes_answered_reports_off_their_view(api: Api) -> None:
    await api.runtime.intake.submit([report(1)])
    await api.act(ticket(1), {"action": "request_clarification", "facts": ["location"]})
    answer = report(1, text="Di depan balai desa")
    await api.runtime.intake.submit([replace(answer, external_id="wamid.1b")])
    async with browser(api) as b:
        await b.sign_in("siti")
        _, html = await b.page("/", view="answered")
        assert numbers(html) == [ticket(1)]
        token = re.search(r'name="csrf" value="([^"]*)"', html)
        assert token is not None
        sent = await b.http.post(
            "/queue/bulk",
            data=[("csrf", token.group(1)), ("numbers", ticket(1)), ("op", "read")],
            allow_redirects=False,
        )
        assert sent.headers["Location"] == "/?bulk=1&skipped="
        _, html = await b.page("/", view="answered")
        assert numbers(html) == []
    _, body = await api.get(f"/api/tickets/{ticket(1)}")
    assert (body["answered"], body["events"][-1]["action"]) == (False, "mark_read")
