"""Who is browsing: the session cookie, the role check and the CSRF check of every page."""

from __future__ import annotations

import asyncio
import functools
import hmac
import secrets
from collections.abc import Callable, Collection
from datetime import datetime
from urllib.parse import quote

from aiohttp import web

from inbox.auth import SESSION_COOKIE, Handler
from inbox.context import SERVICES, VISITOR_KEY, Visitor
from inbox.error_pages import error_page, wants_html
from inbox.i18n import translate
from inbox.proxies import is_https
from store import sessions as session_store

LOGIN_CSRF_COOKIE = "kanal_login_csrf"
CSRF_FIELD = "csrf"

ALL_ROLES = frozenset({"operator", "supervisor", "admin", "opd"})
STAFF = frozenset({"operator", "supervisor", "admin"})  # every ticket, every action
MANAGERS = frozenset({"supervisor", "admin"})  # statistics and user accounts


def visitor(request: web.Request) -> Visitor:
    return request[VISITOR_KEY]


def now(request: web.Request) -> datetime:
    return request.app[SERVICES].actions.clock()


def set_cookie(request: web.Request, response: web.StreamResponse, name: str, value: str) -> None:
    """HttpOnly, SameSite=Lax (links from a mail still open the inbox), Secure over HTTPS,
    also when a trusted proxy says the client used it (inbox/proxies.py)."""
    response.set_cookie(
        name, value, httponly=True, samesite="Lax", secure=is_https(request), path="/"
    )


def refused(request: web.Request, key: str, http_status: int) -> web.Response:
    """A browser gets a page with a way back; a script the text alone."""
    if wants_html(request):
        return error_page(request, http_status, key)
    locale = visitor(request).locale if VISITOR_KEY in request else "id"
    return web.Response(text=translate(key, locale), status=http_status, content_type="text/plain")


async def load_visitor(request: web.Request) -> Visitor | None:
    """The signed-in visitor of the session cookie, or None."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    db = request.app[SERVICES].db
    moment = now(request)

    def read() -> Visitor | None:
        with db.read() as session:
            found = session_store.session_user(session, token, now=moment)
        if found is None:
            return None
        user, web_session = found
        if session_store.needs_touch(web_session, moment):
            with db.write() as session:
                session_store.touch(session, web_session.id or 0, moment)
        return Visitor(user, web_session.csrf_token, token)

    return await asyncio.to_thread(read)


def csrf_matches(expected: str, given: object) -> bool:
    return isinstance(given, str) and hmac.compare_digest(expected.encode(), given.encode())


def page(roles: Collection[str] = ALL_ROLES) -> Callable[[Handler], Handler]:
    """Signed-in users of `roles` only; every POST must carry the session's CSRF token."""

    def wrap(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def checked(request: web.Request) -> web.StreamResponse:
            found = await load_visitor(request)
            if found is None:
                if request.method == "GET":
                    raise web.HTTPSeeOther(f"/login?next={_quoted(request.path_qs)}")
                return refused(request, "csrf.refused", 403)
            request[VISITOR_KEY] = found
            if found.user.role not in roles:
                return refused(request, "forbidden", 403)
            if request.method == "POST":
                form = await request.post()
                if not csrf_matches(found.csrf, form.get(CSRF_FIELD)):
                    return refused(request, "csrf.refused", 403)
            return await handler(request)

        return checked

    return wrap


def login_csrf(request: web.Request) -> str:
    """The double-submit token of the sign-in form, before there is a session."""
    return request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)


def _quoted(path: str) -> str:
    return quote(path, safe="/")
