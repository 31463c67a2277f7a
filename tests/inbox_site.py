"""Staff accounts and signed-in HTTP sessions against a running Kanal, for the page tests."""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp

from api_client import Api
from store.users import add_user

PASSWORD = "rahasia-sekali"
_CSRF = re.compile(r'name="csrf" value="([^"]*)"')


def png(width: int = 240, height: int = 160) -> bytes:
    """A real PNG picture (a blue field with a grey band), as a phone would send one."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(
        b"\x00" + (b"\x80\x80\x80" if height // 3 < y < height // 2 else b"\x1e\x5a\xa0") * width
        for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def add_staff(api: Api, username: str, role: str, opd: str | None = None) -> None:
    with api.runtime.db.write() as session:
        add_user(session, username, PASSWORD, role, opd=opd, now=api.clock())


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


class Browser:
    """An HTTP client with its own cookie jar, like one person's browser."""

    def __init__(self, http: aiohttp.ClientSession) -> None:
        self.http = http

    async def sign_in(self, username: str, password: str = PASSWORD) -> aiohttp.ClientResponse:
        form = await self.http.get("/login")
        token = csrf_of(await form.text())
        return await self.http.post(
            "/login",
            data={"csrf": token, "username": username, "password": password},
            allow_redirects=False,
        )

    async def page(self, path: str, **params: str) -> tuple[int, str]:
        response = await self.http.get(path, params=params, allow_redirects=False)
        return response.status, await response.text()

    async def post_form(self, path: str, data: dict, *, from_page: str) -> aiohttp.ClientResponse:
        """Post `data` with the CSRF token found on `from_page`, as the page's form would."""
        _, html = await self.page(from_page)
        return await self.http.post(
            path, data={"csrf": csrf_of(html), **data}, allow_redirects=False
        )

    async def act(self, number: str, **fields: str) -> aiohttp.ClientResponse:
        return await self.post_form(
            f"/tickets/{number}/actions", fields, from_page=f"/tickets/{number}"
        )


@asynccontextmanager
async def browser(api: Api) -> AsyncIterator[Browser]:
    base = str(api.client.make_url("/"))
    jar = aiohttp.CookieJar(unsafe=True)  # 127.0.0.1 is an IP address
    async with aiohttp.ClientSession(base_url=base, cookie_jar=jar) as http:
        yield Browser(http)
