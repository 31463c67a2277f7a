"""Signing in to the staff pages: sessions, lock-out, sign-out, CSRF and roles; on SQLite and
PostgreSQL through the real runtime."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from api_client import Api, report, running_api
from inbox_site import PASSWORD, add_staff, browser, csrf_of
from store.models import User, WebSession
from store.users import list_tokens


@pytest.fixture
async def api(database_url: str, tmp_path: Path, clock) -> AsyncIterator[Api]:
    async with running_api(database_url, tmp_path, clock) as running:
        add_staff(running, "siti", "operator")
        add_staff(running, "kepala", "supervisor")
        add_staff(running, "pupr1", "opd", opd="pupr")
        yield running


def user(api: Api, username: str) -> User:
    with api.runtime.db.read() as session:
        return session.exec(select(User).where(User.username == username)).one()


async def test_a_page_without_a_session_sends_to_the_sign_in_form(api: Api) -> None:
    async with browser(api) as b:
        status, _ = await b.page("/tickets/LBP-2026-00001")
        response = await b.http.get("/", allow_redirects=False)
        assert (status, response.status) == (303, 303)
        assert response.headers["Location"] == "/login?next=/"
        status, html = await b.page("/login")
        assert status == 200
        assert "Nama pengguna" in html and "Kata sandi" in html


async def test_signing_in_sets_an_httponly_samesite_cookie_and_opens_the_queue(api: Api) -> None:
    async with browser(api) as b:
        response = await b.sign_in("siti")
        assert response.status == 303
        assert response.headers["Location"] == "/"
        cookie = response.cookies["kanal_session"]
        assert cookie["httponly"] is True
        assert cookie["samesite"] == "Lax"
        assert cookie["path"] == "/"
        status, html = await b.page("/")
        assert status == 200
        assert "Antrean laporan" in html
        assert "siti" in html
    with api.runtime.db.read() as session:
        rows = session.exec(select(WebSession)).all()
    assert len(rows) == 1
    assert rows[0].token_hash != cookie.value  # only the hash is kept


async def test_sign_in_returns_to_the_page_asked_for_but_never_to_another_site(api: Api) -> None:
    async with browser(api) as b:
        form = await (await b.http.get("/login", params={"next": "/users"})).text()
        assert 'name="next" value="/users"' in form
        _, html = await b.page("/login", next="//evil.example/x")
        assert 'name="next" value=""' in html


REFUSED = "Nama pengguna atau kata sandi salah, atau akun sedang dikunci sementara"


async def test_a_wrong_password_is_refused_and_five_lock_the_account(api: Api) -> None:
    async with browser(api) as b:
        response = await b.sign_in("siti", "salah-sandi")
        assert response.status == 401
        assert REFUSED in await response.text()
        assert user(api, "siti").failed_logins == 1
        for _ in range(4):
            response = await b.sign_in("siti", "salah-sandi")
        assert response.status == 401
        locked = user(api, "siti")
        assert locked.locked_until == api.clock() + timedelta(minutes=15)
        # Locked: even the right password does not open a session, and the answer is the same.
        response = await b.sign_in("siti", PASSWORD)
        assert response.status == 401
        assert REFUSED in await response.text()
        api.clock.advance(timedelta(minutes=16))
        response = await b.sign_in("siti", PASSWORD)
        assert response.status == 303
        assert (user(api, "siti").failed_logins, user(api, "siti").locked_until) == (0, None)


async def test_an_unknown_user_is_refused_like_a_wrong_password(api: Api) -> None:
    async with browser(api) as b:
        response = await b.sign_in("tidak-ada", PASSWORD)
        assert response.status == 401
        assert REFUSED in await response.text()


async def test_sign_out_ends_the_session_on_the_server(api: Api) -> None:
    async with browser(api) as b:
        await b.sign_in("siti")
        token = b.http.cookie_jar.filter_cookies(b.http._base_url)["kanal_session"].value
        response = await b.post_form("/logout", {}, from_page="/")
        assert (response.status, response.headers["Location"]) == (303, "/login")
    with api.runtime.db.read() as session:
        assert session.exec(select(WebSession)).all() == []
    async with browser(api) as other:
        other.http.cookie_jar.update_cookies({"kanal_session": token}, other.http._base_url)
        assert (await other.page("/"))[0] == 303  # the old cookie opens nothing


async def test_a_session_ends_after_a_day_without_use(api: Api) -> None:
    async with browser(api) as b:
        await b.sign_in("siti")
        api.clock.advance(timedelta(hours=13))
        assert (await b.page("/"))[0] == 303


async def test_forms_without_their_csrf_token_are_refused(api: Api) -> None:
    async with browser(api) as b:
        response = await b.http.post(
            "/login", data={"username": "siti", "password": PASSWORD}, allow_redirects=False
        )
        assert response.status == 403
        await b.sign_in("siti")
        for data in ({}, {"csrf": "tebakan"}):
            response = await b.http.post("/logout", data=data, allow_redirects=False)
            assert response.status == 403
            assert "Formulir kedaluwarsa" in await response.text()
        assert (await b.page("/"))[0] == 200  # still signed in


async def test_pages_check_the_role_on_the_server(api: Api) -> None:
    async with browser(api) as operator, browser(api) as head, browser(api) as liaison:
        await operator.sign_in("siti")
        await head.sign_in("kepala")
        await liaison.sign_in("pupr1")
        for path in ("/users", "/stats", "/stats.csv"):
            assert (await operator.page(path))[0] == 403
            assert (await liaison.page(path))[0] == 403
            assert (await head.page(path))[0] == 200
        status, html = await liaison.page("/")
        assert status == 200
        assert 'href="/users"' not in html


async def test_the_language_is_chosen_per_user(api: Api) -> None:
    async with browser(api) as b:
        await b.sign_in("siti")
        response = await b.post_form("/locale", {"locale": "en", "next": "/"}, from_page="/")
        assert (response.status, response.headers["Location"]) == (303, "/")
        _, html = await b.page("/")
        assert "Report queue" in html and 'lang="en"' in html
    assert user(api, "siti").locale == "en"
    async with browser(api) as other:
        await other.sign_in("kepala")
        assert "Antrean laporan" in (await other.page("/"))[1]


async def test_every_page_carries_a_content_security_policy_without_inline_script(
    api: Api,
) -> None:
    async with browser(api) as b:
        response = await b.http.get("/login")
        policy = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy
        assert "unsafe-inline" not in policy
        assert response.headers["X-Frame-Options"] == "DENY"


async def test_supervisors_add_users_and_unlock_them(api: Api) -> None:
    async with browser(api) as head, browser(api) as newcomer:
        await head.sign_in("kepala")
        response = await head.post_form(
            "/users",
            {"username": "dishub1", "password": "sandi-baru-1", "role": "opd", "opd": "dishub"},
            from_page="/users",
        )
        assert response.status == 200
        assert "Pengguna dishub1 ditambahkan." in await response.text()
        added = user(api, "dishub1")
        assert (added.role, added.opd, added.locale) == ("opd", "dishub", "id")
        refused = await head.post_form(
            "/users",
            {"username": "boss", "password": "sandi-baru-1", "role": "admin"},
            from_page="/users",
        )
        assert refused.status == 422  # only an admin makes an admin
        for _ in range(5):
            await newcomer.sign_in("dishub1", "keliru-terus")
        assert (await newcomer.sign_in("dishub1", "sandi-baru-1")).status == 401
        _, html = await head.page("/users")
        assert "Terkunci sampai" in html
        response = await head.post_form("/users/dishub1/unlock", {}, from_page="/users")
        assert response.status == 303
        assert (await newcomer.sign_in("dishub1", "sandi-baru-1")).status == 303


async def test_a_session_in_use_stays_open(api: Api) -> None:
    async with browser(api) as b:
        await b.sign_in("siti")
        for _ in range(3):
            api.clock.advance(timedelta(hours=10))
            assert (await b.page("/"))[0] == 200


async def test_the_api_accepts_the_session_cookie_with_its_csrf_header(api: Api) -> None:
    await api.runtime.intake.submit([report(1)])
    async with browser(api) as b:
        await b.sign_in("siti")
        response = await b.http.get("/api/tickets/LBP-2026-00001")
        assert (response.status, (await response.json())["status"]) == (200, "new")
        note = {"action": "note", "text": "dari halaman"}
        response = await b.http.post("/api/tickets/LBP-2026-00001/actions", json=note)
        assert response.status == 403
        _, html = await b.page("/")
        response = await b.http.post(
            "/api/tickets/LBP-2026-00001/actions",
            json=note,
            headers={"X-CSRF-Token": csrf_of(html)},
        )
        assert response.status == 200
        assert (await response.json())["events"][-1]["actor"] == "siti"
        await b.post_form("/logout", {}, from_page="/")
    async with browser(api) as other:
        response = await other.http.get("/api/tickets", cookies={"kanal_session": "nicht-gueltig"})
        assert response.status == 401


async def test_an_api_tokens_last_use_is_recorded_every_few_minutes(api: Api) -> None:
    """The admin's token list says when each token was last used; not a write per call."""
    token = api.token_for("budi", "operator")

    def last_used() -> object:
        with api.runtime.db.read() as session:
            [found] = [t for t in list_tokens(session) if t.username == "budi"]
        return found.last_used_at

    assert last_used() is None
    assert (await api.get("/api/tickets", token=token))[0] == 200
    first = api.clock()
    assert last_used() == first
    api.clock.advance(timedelta(minutes=2))
    assert (await api.get("/api/tickets", token=token))[0] == 200
    assert last_used() == first
    api.clock.advance(timedelta(minutes=4))
    assert (await api.get("/api/tickets", token=token))[0] == 200
    assert last_used() == api.clock()
