"""Behind the README's TLS proxy: the forwarding headers are believed only from
`[server] trusted_proxies`, and then the session cookie is Secure and HSTS is sent; on SQLite and
PostgreSQL through the real runtime."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest

from api_client import Api, running_api
from inbox_site import add_staff, browser, csrf_of
from support.command_line import run_main

REPO = Path(__file__).resolve().parent.parent
HTTPS_VIA_NGINX = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}


@asynccontextmanager
async def kanal(database_url: str, tmp_path: Path, clock, trusted: list[str]) -> AsyncIterator[Api]:
    server = {"trusted_proxies": trusted}
    async with running_api(database_url, tmp_path, clock, server=server) as api:
        add_staff(api, "siti", "operator")
        yield api


async def sign_in(api: Api, headers: dict[str, str]) -> aiohttp.ClientResponse:
    async with browser(api) as b:
        form = await b.http.get("/login", headers=headers)
        token = csrf_of(await form.text())
        # Sent by hand: a Secure cookie never goes back over the test's plain HTTP.
        response = await b.http.post(
            "/login",
            data={"csrf": token, "username": "siti", "password": "rahasia-sekali"},
            headers=headers,
            cookies={"kanal_login_csrf": form.cookies["kanal_login_csrf"].value},
            allow_redirects=False,
        )
        assert response.status == 303
        return response


def secure(response: aiohttp.ClientResponse) -> bool:
    return bool(response.cookies["kanal_session"]["secure"])


async def test_https_at_a_trusted_proxy_makes_the_cookie_secure_and_sends_hsts(
    database_url: str, tmp_path: Path, clock
) -> None:
    async with kanal(database_url, tmp_path, clock, ["127.0.0.0/8", "::1"]) as api:
        response = await sign_in(api, HTTPS_VIA_NGINX)
        assert secure(response)
        assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
        for headers in (
            {"Forwarded": 'for="[2001:db8::7]:4711";proto=https'},
            # Two proxies of ours, the outer one terminating TLS.
            {"X-Forwarded-For": "203.0.113.7, 127.0.0.2", "X-Forwarded-Proto": "https, http"},
        ):
            assert secure(await sign_in(api, headers)), headers
        page = await api.client.get("/login", headers=HTTPS_VIA_NGINX)
        assert page.headers["Strict-Transport-Security"] == "max-age=31536000"
        plain = await sign_in(api, {"X-Forwarded-Proto": "http"})
        assert not secure(plain)
        assert "Strict-Transport-Security" not in plain.headers
        # A client beyond our proxies cannot claim HTTPS for itself: its hop decides.
        spoofed = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https, http"}
        assert not secure(await sign_in(api, spoofed))


@pytest.mark.parametrize("trusted", [[], ["192.0.2.10"]])
async def test_forwarding_headers_from_anyone_else_are_ignored(
    database_url: str, tmp_path: Path, clock, trusted: list[str]
) -> None:
    async with kanal(database_url, tmp_path, clock, trusted) as api:
        for headers in (HTTPS_VIA_NGINX, {"Forwarded": "for=203.0.113.7;proto=https"}):
            response = await sign_in(api, headers)
            assert not secure(response)
            assert "Strict-Transport-Security" not in response.headers


def test_check_config_names_a_trusted_proxy_that_is_no_address(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[server]\ntrusted_proxies = ["127.0.0.1", "nginx.local"]\n')
    done = run_main(config, "check-config")
    assert done.returncode != 0
    assert re.search(r"server\.trusted_proxies.*'nginx\.local' is not an IP address", done.stderr)
