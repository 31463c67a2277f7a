"""Staff input that cannot be answered as asked gets a 4xx with its reason, never a 500; what
operators type is stored even with a NUL or a lone surrogate; sign-in goes back only to a path
on this site. On SQLite and PostgreSQL through the real runtime."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlmodel import select

from api_client import Api, report, running_api
from inbox_site import add_staff, browser, csrf_of
from store.models import Message, TicketEvent

NUMBER = "LBP-2026-00001"


@pytest.fixture
async def api(database_url: str, tmp_path: Path, clock) -> AsyncIterator[Api]:
    async with running_api(database_url, tmp_path, clock) as running:
        add_staff(running, "siti", "operator")
        add_staff(running, "kepala", "supervisor")
        await running.runtime.intake.submit([report(1), report(2)])
        yield running


def cursor(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "raw",
    [
        "2026-11-23T01:00:00|1",  # no offset: the store takes only aware times
        "0001-01-01T00:00:00+14:00|1",  # before year 1 in UTC
        "2026-11-23T01:00:00+00:00|99999999999999999999",  # no column holds that id
        "2026-11-23T01:00:00+00:00|-5",
    ],
)
async def test_a_crafted_cursor_gets_400_with_the_reason(api: Api, raw: str) -> None:
    status, body = await api.get("/api/tickets", limit="1", cursor=cursor(raw))
    assert (status, body) == (400, {"error": "cursor is not one this server handed out"})


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"q": "\x00"}, "q holds a NUL character, which no ticket can contain"),
        ({"channel": "wa\x00"}, "channel holds a NUL character, which no ticket can contain"),
        (
            {"status": "\x00"},
            "status must be one of new, clarifying, forwarded, in_progress, answered, resolved,"
            " closed",
        ),
        ({"limit": "x"}, "limit must be a whole number"),
        ({"limit": "٣"}, "limit must be a whole number"),  # a digit, but not one int() should see
    ],
)
async def test_filters_no_ticket_can_match_get_400_with_the_reason(
    api: Api, params: dict[str, str], reason: str
) -> None:
    assert await api.get("/api/tickets", **params) == (400, {"error": reason})


async def test_a_period_past_the_calendar_gets_400_on_the_api_and_the_page(api: Api) -> None:
    head = api.token_for("kepala2", "supervisor")
    far = {"from": "0001-01-01", "to": "9999-12-31"}
    status, body = await api.get("/api/stats", token=head, **far)
    assert (status, body) == (400, {"error": "`from` is out of range (years 1 to 9999)"})
    status, body = await api.get("/api/stats", token=head, **{"to": "9999-12-31"})
    assert (status, body) == (400, {"error": "`to` is out of range (years 1 to 9999)"})
    async with browser(api) as b:
        await b.sign_in("kepala")
        for path in ("/stats", "/stats.csv"):
            status, text = await b.page(path, **far)
            assert status == 400
            assert text.startswith("Periode tidak valid")
        assert (await b.page("/stats", **{"from": "kemarin"}))[0] == 400


async def test_the_queue_page_ignores_a_filter_no_ticket_can_match(api: Api) -> None:
    async with browser(api) as b:
        await b.sign_in("siti")
        for params in ({"q": "\x00"}, {"status": "\x00"}, {"channel": "\x00", "opd": "\x00"}):
            status, html = await b.page("/", **params)
            assert status == 200
            assert NUMBER in html and "LBP-2026-00002" in html
        assert (await b.page("/tickets/LBP-2026-00001\x00"))[0] == 404
        assert (await b.page("/attachments/99999999999999999999"))[0] == 404
    assert (await api.get("/api/tickets/LBP\x00"))[0] == 404
    assert (await api.act(f"{NUMBER}\x00", {"action": "note", "text": "x"}))[0] == 404


async def test_operators_text_with_nul_or_a_lone_surrogate_is_kept_readable(api: Api) -> None:
    status, body = await api.act(NUMBER, {"action": "note", "text": "catatan \ud800 akhir"})
    assert (status, body["events"][-1]["note"]) == (200, "catatan \ufffd akhir")
    status, body = await api.act(NUMBER, {"action": "reply", "message": "Baik\x00, kami cek."})
    assert (status, body["events"][-1]["note"]) == (200, "Baik, kami cek.")
    reason = {"action": "reject", "resolution": "spam", "message": "Bukan \udfffaduan"}
    assert (await api.act("LBP-2026-00002", reason))[0] == 200
    status, _ = await api.act(NUMBER, {"action": "merge", "into": "LBP\x00"})
    assert status == 422
    async with browser(api) as b:
        await b.sign_in("siti")
        response = await b.act(NUMBER, action="note", text="dari\x00 halaman")
        assert response.status == 303
    with api.runtime.db.read() as session:
        notes = [e.note for e in session.exec(select(TicketEvent)).all() if e.note]
        sent = sorted(
            m.text for m in session.exec(select(Message).where(Message.direction == "out")).all()
        )
    assert notes[-4:] == [
        "catatan \ufffd akhir",
        "Baik, kami cek.",
        "Bukan \ufffdaduan",
        "dari halaman",
    ]
    assert sent == ["Baik, kami cek.", "Bukan \ufffdaduan"]


@pytest.mark.parametrize(
    "target",
    ["/\t/evil.example/", "/\n/evil.example/", "/\x0b/evil.example/", "/\x00x", "//evil.example",
     "/\\evil.example", "https://evil.example/", "/\r\nSet-Cookie: x=1"],
)
async def test_sign_in_goes_back_only_to_a_path_on_this_site(api: Api, target: str) -> None:
    async with browser(api) as b:
        status, html = await b.page("/login", next=target)
        assert (status, 'name="next" value=""' in html) == (200, True)
        response = await b.http.post(
            "/login",
            data={"csrf": csrf_of(html), "username": "siti", "password": "rahasia-sekali",
                  "next": target},
            allow_redirects=False,
        )
        assert (response.status, response.headers["Location"]) == (303, "/")
        _, queue = await b.page("/")
        response = await b.http.post(
            "/locale", data={"csrf": csrf_of(queue), "locale": "en", "next": target},
            allow_redirects=False,
        )
        assert (response.status, response.headers["Location"]) == (303, "/")


async def test_sign_in_goes_back_to_the_page_asked_for_encoded(api: Api) -> None:
    async with browser(api) as b:
        _, html = await b.page("/login", next="/?q=jalan rusák&status=all")
        assert 'name="next" value="/?q=jalan%20rus%C3%A1k&amp;status=all"' in html
        response = await b.http.post(
            "/login",
            data={"csrf": csrf_of(html), "username": "siti", "password": "rahasia-sekali",
                  "next": "/?q=jalan rusák&status=all"},
            allow_redirects=False,
        )
        assert response.headers["Location"] == "/?q=jalan%20rus%C3%A1k&status=all"
