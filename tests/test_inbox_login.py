"""Sign-in under attack: attempts throttled per client address and per username, concurrent
wrong passwords counted under the user's row lock, and unknown and locked users answered alike;
on SQLite and PostgreSQL through the real runtime."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from argon2 import PasswordHasher
from sqlmodel import select

from api_client import Api, running_api
from inbox_site import PASSWORD, add_staff, browser, csrf_of
from store.models import User

REFUSED = "Nama pengguna atau kata sandi salah, atau akun sedang dikunci sementara"
THROTTLED = "Terlalu banyak percobaan masuk. Tunggu sebentar lalu coba lagi."


@asynccontextmanager
async def kanal(database_url: str, tmp_path: Path, clock, **server: object) -> AsyncIterator[Api]:
    async with running_api(database_url, tmp_path, clock, server=server) as api:
        add_staff(api, "siti", "operator")
        yield api


@pytest.fixture
async def api(database_url: str, tmp_path: Path, clock) -> AsyncIterator[Api]:
    async with kanal(database_url, tmp_path, clock) as running:
        yield running


async def attempt(
    http: aiohttp.ClientSession, username: str, password: str, forwarded_for: str | None = None
) -> tuple[int, str, aiohttp.ClientResponse]:
    form = await http.get("/login")
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    response = await http.post(
        "/login",
        data={"csrf": csrf_of(await form.text()), "username": username, "password": password},
        headers=headers,
        allow_redirects=False,
    )
    return response.status, await response.text(), response


def siti(api: Api) -> User:
    with api.runtime.db.read() as session:
        return session.exec(select(User).where(User.username == "siti")).one()


async def test_one_address_gets_twenty_attempts_in_ten_minutes(api: Api) -> None:
    async with browser(api) as b:
        for n in range(20):
            status, _, _ = await attempt(b.http, f"tebakan{n}", "salah-sandi")
            assert status == 401
        # Spoofed forwarding headers change nothing: 127.0.0.1 is no trusted proxy here.
        status, text, response = await attempt(b.http, "siti", PASSWORD, "198.51.100.9")
        assert (status, text, response.headers["Retry-After"]) == (429, THROTTLED, "60")
        api.clock.advance(timedelta(minutes=10))
        assert (await attempt(b.http, "siti", PASSWORD))[0] == 303


async def test_one_username_gets_ten_attempts_from_anywhere(
    database_url: str, tmp_path: Path, clock
) -> None:
    async with kanal(database_url, tmp_path, clock, trusted_proxies=["127.0.0.1"]) as api:
        async with browser(api) as b:
            for n in range(10):
                status, _, _ = await attempt(b.http, "tidak-ada", "x", f"198.51.100.{n + 1}")
                assert status == 401
            status, text, _ = await attempt(b.http, " Tidak-Ada ", "x", "198.51.100.77")
            assert (status, text) == (429, THROTTLED)
            # Another name from an address already seen is still answered.
            status, _, _ = await attempt(b.http, "siti", PASSWORD, "198.51.100.1")
            assert status == 303


async def test_concurrent_wrong_passwords_lock_the_account_exactly_once(api: Api) -> None:
    async with browser(api) as b:
        answers = await asyncio.gather(
            *(attempt(b.http, "siti", f"salah-{n}") for n in range(9))
        )
    assert {status for status, _, _ in answers} == {401}
    locked = siti(api)
    # Five counted under the row lock locked it; the four after it were never counted.
    assert (locked.failed_logins, locked.locked_until) == (0, api.clock() + timedelta(minutes=15))


async def test_unknown_and_locked_users_are_answered_alike(api: Api) -> None:
    async with browser(api) as b:
        for _ in range(5):
            await attempt(b.http, "siti", "salah-sandi")
        assert siti(api).locked_until is not None

        async def timed(username: str, password: str) -> tuple[int, str, float]:
            started = time.perf_counter()
            status, text, _ = await attempt(b.http, username, password)
            return status, text, time.perf_counter() - started

        locked = [await timed("siti", PASSWORD) for _ in range(3)]
        unknown = [await timed("bukan-siapa-siapa", PASSWORD) for _ in range(3)]
    assert {(s, t) for s, t, _ in locked} == {(s, t) for s, t, _ in unknown}
    assert {s for s, _, _ in locked} == {401}
    assert REFUSED in locked[0][1]
    # Both check a password (a stand-in's): a locked name is not answered in a blink.
    ratio = statistics.median(s for *_, s in locked) / statistics.median(s for *_, s in unknown)
    assert 0.3 < ratio < 3.3


async def test_a_name_no_account_can_have_is_refused_like_any_other(api: Api) -> None:
    async with browser(api) as b:
        for username in ("si\x00ti", "x" * 500, "   "):
            status, text, _ = await attempt(b.http, username, PASSWORD)
            assert (status, REFUSED in text) == (401, True)


async def test_a_hash_with_older_parameters_is_made_anew_at_sign_in(api: Api) -> None:
    """A password hashed with argon2-cffi's defaults (64 MiB, as accounts made before were)
    still signs in, and its hash is replaced by one with today's lighter parameters; a wrong
    password changes nothing."""
    with api.runtime.db.write() as session:
        user = session.exec(select(User).where(User.username == "siti")).one()
        user.password_hash = PasswordHasher().hash(PASSWORD)
        session.add(user)
    old = siti(api).password_hash
    assert "m=65536,t=3,p=4" in old
    async with browser(api) as b:
        status, _, _ = await attempt(b.http, "siti", "salah-sandi")
        assert (status, siti(api).password_hash) == (401, old)
        status, _, _ = await attempt(b.http, "siti", PASSWORD)
        assert status == 303
    new = siti(api).password_hash
    assert "m=19456,t=2,p=1" in new and PasswordHasher().verify(new, PASSWORD)
    async with browser(api) as b:  # and the new one signs in, unchanged
        assert (await attempt(b.http, "siti", PASSWORD))[0] == 303
    assert siti(api).password_hash == new
