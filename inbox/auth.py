"""Who is calling the API: `Authorization: Bearer TOKEN`, or a signed-in page's session cookie
(which must send its CSRF token in `X-CSRF-Token` to change anything)."""

from __future__ import annotations

import asyncio
import functools
import hmac
from collections.abc import Awaitable, Callable

from aiohttp import web

from inbox.context import SERVICES
from store.models import User
from store.sessions import session_user
from store.users import token_needs_touch, token_user, touch_token

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
USER_KEY = web.RequestKey("user", User)
SESSION_COOKIE = "kanal_session"  # set by the sign-in page (inbox/pages.py)


def current_user(request: web.Request) -> User:
    return request[USER_KEY]


def require_user(handler: Handler) -> Handler:
    """Answer 401 unless the request carries a valid API token."""

    @functools.wraps(handler)
    async def checked(request: web.Request) -> web.StreamResponse:
        header = request.headers.get("Authorization", "")
        if not header and SESSION_COOKIE in request.cookies:
            return await _with_session(request, handler)
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return _unauthorized("missing bearer token")
        db = request.app[SERVICES].db
        moment = request.app[SERVICES].actions.clock()

        def lookup() -> User | None:
            with db.read() as session:
                found = token_user(session, token.strip())
            if found is None:
                return None
            user, api_token = found
            if token_needs_touch(api_token, moment):
                with db.write() as session:
                    touch_token(session, api_token.id or 0, moment)
            return user

        user = await asyncio.to_thread(lookup)
        if user is None:
            return _unauthorized("invalid or revoked token")
        request[USER_KEY] = user
        return await handler(request)

    return checked


async def _with_session(request: web.Request, handler: Handler) -> web.StreamResponse:
    db = request.app[SERVICES].db
    now = request.app[SERVICES].actions.clock()
    token = request.cookies[SESSION_COOKIE]

    def lookup() -> tuple[User, str] | None:
        with db.read() as session:
            found = session_user(session, token, now=now)
            return (found[0], found[1].csrf_token) if found else None

    found = await asyncio.to_thread(lookup)
    if found is None:
        return _unauthorized("the session has ended; sign in again")
    user, csrf = found
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        given = request.headers.get("X-CSRF-Token", "")
        if not hmac.compare_digest(csrf.encode(), given.encode()):
            return web.json_response({"error": "missing or wrong X-CSRF-Token"}, status=403)
    request[USER_KEY] = user
    return await handler(request)


def _unauthorized(reason: str) -> web.Response:
    return web.json_response(
        {"error": reason}, status=401, headers={"WWW-Authenticate": 'Bearer realm="kanal"'}
    )
