"""Admins disable accounts and revoke API tokens on /users; usernames are checked; on SQLite and
PostgreSQL through the real runtime."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlmodel import select

from api_client import Api, running_api
from inbox_site import PASSWORD, add_staff, browser
from store.models import ApiToken, User, WebSession
from store.users import create_token


@pytest.fixture
async def api(database_url: str, tmp_path: Path, clock) -> AsyncIterator[Api]:
    async with running_api(database_url, tmp_path, clock) as running:
        add_staff(running, "admin", "admin")
        add_staff(running, "kepala", "supervisor")
        add_staff(running, "siti", "operator")
        yield running


def token_of(api: Api, username: str) -> str:
    with api.runtime.db.write() as session:
        return create_token(session, username, now=api.clock())


def users(api: Api) -> dict[str, User]:
    with api.runtime.db.read() as session:
        return {u.username: u for u in session.exec(select(User)).all()}


async def test_an_admin_disables_an_account_its_session_and_tokens_end(api: Api) -> None:
    token = token_of(api, "siti")
    async with browser(api) as admin, browser(api) as siti:
        await admin.sign_in("admin")
        await siti.sign_in("siti")
        assert (await siti.page("/"))[0] == 200
        assert (await api.get("/api/tickets", token=token))[0] == 200

        _, html = await admin.page("/users")
        assert 'action="/users/siti/disable"' in html
        assert 'action="/users/admin/disable"' not in html  # never one's own
        refused = await admin.http.post("/users/siti/disable", data={}, allow_redirects=False)
        assert refused.status == 403  # no CSRF token, like every other form
        response = await admin.post_form("/users/siti/disable", {}, from_page="/users")
        assert (response.status, response.headers["Location"]) == (
            303,
            "/users?done=disabled&name=siti",
        )

        assert (await siti.page("/"))[0] == 303  # the open session has ended
        assert (await api.get("/api/tickets", token=token))[0] == 401
        assert (await siti.sign_in("siti")).status == 401  # refused like a wrong password
        assert "Nama pengguna atau kata sandi salah" in await (await siti.sign_in("siti")).text()
        _, html = await admin.page("/users")
        assert "Nonaktif sejak" in html
    disabled = users(api)["siti"]
    assert disabled.disabled_at == api.clock()
    with api.runtime.db.read() as session:
        assert session.exec(select(WebSession).where(WebSession.user_id == disabled.id)).all() == []
        tokens = session.exec(select(ApiToken).where(ApiToken.user_id == disabled.id)).all()
    assert [t.revoked_at for t in tokens] == [api.clock()]
    assert (await api.get("/api/tickets"))[0] == 200  # everyone else's token still works


async def test_only_an_admin_disables_and_never_themselves(api: Api) -> None:
    async with browser(api) as head, browser(api) as admin:
        await head.sign_in("kepala")
        _, html = await head.page("/users")
        assert "/disable" not in html and "/revoke" not in html
        response = await head.post_form("/users/siti/disable", {}, from_page="/users")
        assert response.status == 403
        await admin.sign_in("admin")
        response = await admin.post_form("/users/admin/disable", {}, from_page="/users")
        assert response.status == 422
        assert "tidak dapat menonaktifkan akun Anda sendiri" in await response.text()
        response = await admin.post_form("/users/nobody/disable", {}, from_page="/users")
        assert response.status == 404
    assert all(u.disabled_at is None for u in users(api).values())


async def test_an_admin_lists_and_revokes_one_token(api: Api) -> None:
    first, second = token_of(api, "siti"), token_of(api, "siti")
    with api.runtime.db.read() as session:
        first_id, second_id = [t.id for t in session.exec(select(ApiToken)).all()][-2:]
    async with browser(api) as admin, browser(api) as head:
        await admin.sign_in("admin")
        _, html = await admin.page("/users")
        assert f'action="/tokens/{first_id}/revoke"' in html
        assert first not in html and second not in html  # the tokens themselves never show
        response = await admin.post_form(f"/tokens/{first_id}/revoke", {}, from_page="/users")
        assert (response.status, response.headers["Location"]) == (303, "/users")
        _, html = await admin.page("/users")
        assert f'action="/tokens/{first_id}/revoke"' not in html
        assert f'action="/tokens/{second_id}/revoke"' in html
        assert "Dicabut" in html
        missing = await admin.post_form("/tokens/999999/revoke", {}, from_page="/users")
        assert missing.status == 404
        await head.sign_in("kepala")
        refused = await head.post_form(f"/tokens/{second_id}/revoke", {}, from_page="/users")
        assert refused.status == 403
    assert (await api.get("/api/tickets", token=first))[0] == 401
    assert (await api.get("/api/tickets", token=second))[0] == 200


@pytest.mark.parametrize(
    "name", ["", "   ", "dinas/pupr", "..", ".hidden", "a b", "x" * 65, "siti\x00"]
)
async def test_a_username_that_breaks_links_or_is_blank_is_refused(api: Api, name: str) -> None:
    async with browser(api) as head:
        await head.sign_in("kepala")
        response = await head.post_form(
            "/users",
            {"username": name, "password": "sandi-baru-1", "role": "operator"},
            from_page="/users",
        )
        assert response.status == 422
        assert "nama pengguna harus 1-64 karakter" in await response.text()
    assert set(users(api)) == {"admin", "kepala", "siti", "operator1"}


async def test_a_username_with_dots_and_dashes_is_unlocked_by_its_link(api: Api) -> None:
    async with browser(api) as head, browser(api) as newcomer:
        await head.sign_in("kepala")
        response = await head.post_form(
            "/users",
            {"username": "dinas.pupr-1_a", "password": PASSWORD, "role": "operator"},
            from_page="/users",
        )
        assert response.status == 200
        for _ in range(5):
            await newcomer.sign_in("dinas.pupr-1_a", "keliru-terus")
        _, html = await head.page("/users")
        assert 'action="/users/dinas.pupr-1_a/unlock"' in html
        response = await head.post_form("/users/dinas.pupr-1_a/unlock", {}, from_page="/users")
        assert response.status == 303
        assert (await newcomer.sign_in("dinas.pupr-1_a")).status == 303


@pytest.mark.parametrize("action", ["unlock", "disable"])
async def test_a_name_no_account_can_have_in_a_link_is_not_found(api: Api, action: str) -> None:
    async with browser(api) as admin:
        await admin.sign_in("admin")
        for name in ("siti%00", "x" * 400):
            response = await admin.post_form(f"/users/{name}/{action}", {}, from_page="/users")
            assert response.status in (303, 404), (name, response.status)
    assert all(u.disabled_at is None for u in users(api).values())
