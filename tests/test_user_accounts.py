"""The users page changes accounts: role and OPD, disable and enable, a new password; every
change lands in the accounts' audit trail. Through the real runtime, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlmodel import col, select

from api_client import Api, running_api
from inbox_site import add_staff, browser
from store.models import User, UserEvent

NEW_PASSWORD = "sandi-baru-siti"


@pytest.fixture
async def api(database_url: str, tmp_path: Path, clock) -> AsyncIterator[Api]:
    async with running_api(database_url, tmp_path, clock) as running:
        add_staff(running, "admin", "admin")
        add_staff(running, "kepala", "supervisor")
        add_staff(running, "siti", "operator")
        yield running


def account(api: Api, username: str) -> User:
    with api.runtime.db.read() as session:
        return session.exec(select(User).where(User.username == username)).one()


def trail(api: Api) -> list[tuple[str, str, str, dict]]:
    with api.runtime.db.read() as session:
        events = session.exec(select(UserEvent).order_by(col(UserEvent.id))).all()
        return [(e.actor, e.username, e.action, e.data) for e in events]


async def test_a_supervisor_makes_an_operator_an_opd_liaison_and_it_is_audited(api: Api) -> None:
    async with browser(api) as head:
        await head.sign_in("kepala")
        response = await head.post_form(
            "/users/siti/role", {"role": "opd", "opd": "pupr"}, from_page="/users"
        )
        assert (response.status, response.headers["Location"]) == (
            303,
            "/users?done=changed&name=siti",
        )
        _, html = await head.page("/users", done="changed", name="siti")
    assert (account(api, "siti").role, account(api, "siti").opd) == ("opd", "pupr")
    assert trail(api) == [
        (
            "kepala",
            "siti",
            "changed",
            {"before": {"role": "operator", "opd": None}, "after": {"role": "opd", "opd": "pupr"}},
        )
    ]
    assert "Peran dan OPD siti diubah." in html
    assert "Operator → Penghubung OPD (Dinas Pekerjaan Umum dan Penataan Ruang)" in html
    assert "<td>Dinas Pekerjaan Umum dan Penataan Ruang</td>" in html


async def test_role_changes_are_refused_in_words(api: Api) -> None:
    async with browser(api) as head, browser(api) as admin:
        await head.sign_in("kepala")
        await admin.sign_in("admin")
        refused = await head.post_form("/users/siti/role", {"role": "admin"}, from_page="/users")
        assert (
            refused.status == 422 and "peran ini tidak dapat Anda berikan" in await refused.text()
        )
        refused = await head.post_form(
            "/users/admin/role", {"role": "operator"}, from_page="/users"
        )
        assert refused.status == 422
        assert "hanya admin yang dapat mengubah akun admin" in await refused.text()
        refused = await admin.post_form("/users/siti/role", {"role": "opd"}, from_page="/users")
        assert refused.status == 422
        assert "penghubung OPD harus punya OPD; pilih OPD-nya" in await refused.text()
        refused = await admin.post_form(
            "/users/siti/role", {"role": "opd", "opd": "nope"}, from_page="/users"
        )
        assert "OPD tidak dikenal; pilih dari daftar" in await refused.text()
        refused = await admin.post_form(
            "/users/admin/role", {"role": "operator"}, from_page="/users"
        )
        assert "Anda tidak dapat mengubah peran akun Anda sendiri." in await refused.text()
        missing = await admin.post_form(
            "/users/nobody/role", {"role": "operator"}, from_page="/users"
        )
        assert missing.status == 404
    assert account(api, "siti").role == "operator" and trail(api) == []


async def test_adding_a_liaison_without_an_opd_says_so_in_the_pages_language(api: Api) -> None:
    async with browser(api) as admin:
        await admin.sign_in("admin")
        refused = await admin.post_form(
            "/users",
            {"username": "budi", "password": "rahasia-budi", "role": "opd"},
            from_page="/users",
        )
        text = await refused.text()
    assert refused.status == 422
    assert "penghubung OPD harus punya OPD" in text and "--opd" not in text


async def test_an_admin_disables_enables_and_sets_a_new_password(api: Api) -> None:
    async with browser(api) as admin, browser(api) as siti:
        await admin.sign_in("admin")
        await siti.sign_in("siti")
        await admin.post_form("/users/siti/disable", {}, from_page="/users")
        assert (await siti.sign_in("siti")).status == 401
        _, html = await admin.page("/users")
        assert 'data-enable="siti"' in html
        response = await admin.post_form("/users/siti/enable", {}, from_page="/users")
        assert response.headers["Location"] == "/users?done=enabled&name=siti"
        assert (await siti.sign_in("siti")).status == 303
        assert (await siti.page("/"))[0] == 200
        short = await admin.post_form(
            "/users/siti/password", {"password": "pendek"}, from_page="/users"
        )
        assert short.status == 422 and "kata sandi minimal 8 karakter" in await short.text()
        response = await admin.post_form(
            "/users/siti/password", {"password": NEW_PASSWORD}, from_page="/users"
        )
        assert response.headers["Location"] == "/users?done=password_reset&name=siti"
        assert (await siti.page("/"))[0] == 303  # the old session ended
        assert (await siti.sign_in("siti")).status == 401
        assert (await siti.sign_in("siti", NEW_PASSWORD)).status == 303
        _, html = await admin.page("/users")
    assert [(actor, action) for actor, _, action, _ in trail(api)] == [
        ("admin", "disabled"),
        ("admin", "enabled"),
        ("admin", "password_reset"),
    ]
    assert "Kata sandi diganti" in html and "Diaktifkan lagi" in html


async def test_only_admins_enable_and_set_passwords(api: Api) -> None:
    async with browser(api) as head:
        await head.sign_in("kepala")
        _, html = await head.page("/users")
        assert 'data-reset-password="siti"' not in html and 'data-change-role="siti"' in html
        assert 'data-change-role="admin"' not in html
        refused = await head.post_form(
            "/users/siti/password", {"password": NEW_PASSWORD}, from_page="/users"
        )
        assert refused.status == 403
        assert (await head.post_form("/users/siti/enable", {}, from_page="/users")).status == 403
    assert trail(api) == []
