"""Who is calling: `Authorization: Bearer TOKEN` for the API."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable

from aiohttp import web

from inbox.context import SERVICES
from store.models import User
from store.users import user_for_token

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
USER_KEY = web.RequestKey("user", User)


def current_user(request: web.Request) -> User:
    return request[USER_KEY]


def require_user(handler: Handler) -> Handler:
    """Answer 401 unless the request carries a valid API token."""

    @functools.wraps(handler)
    async def checked(request: web.Request) -> web.StreamResponse:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return _unauthorized("missing bearer token")
        db = request.app[SERVICES].db

        def lookup() -> User | None:
            with db.read() as session:
                return user_for_token(session, token.strip())

        user = await asyncio.to_thread(lookup)
        if user is None:
            return _unauthorized("invalid or revoked token")
        request[USER_KEY] = user
        return await handler(request)

    return checked


def _unauthorized(reason: str) -> web.Response:
    return web.json_response(
        {"error": reason}, status=401, headers={"WWW-Authenticate": 'Bearer realm="kanal"'}
    )
