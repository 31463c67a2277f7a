"""The staff pages: sign-in and sign-out, the language switch and the queue; mounts the others."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

from aiohttp import web

from inbox import (
    attachments,
    bulk_pages,
    canned_pages,
    demo_pages,
    login_guard,
    public_files,
    stats_page,
    ticket_pages,
    user_pages,
)
from inbox.context import SERVICES
from inbox.login_guard import LOGIN_GUARD, Busy, LoginGuard
from inbox.proxies import origin
from inbox.sessions import (
    CSRF_FIELD,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    STAFF,
    csrf_matches,
    login_csrf,
    now,
    page,
    refused,
    set_cookie,
    visitor,
)
from inbox.views import STATIC_DIR, TEMPLATES, make_environment, render
from store import deadlines, logins
from store import queue as queue_store
from store import sessions as session_store
from store.models import User
from store.text import is_storable

routes = web.RouteTableDef()
_NOT_IN_A_PATH = re.compile(r"[\x00-\x1f\x7f\\\ud800-\udfff]")
_PATH_SAFE = "/?&=#%:@!$'()*+,;~"  # kept as they are; quote() keeps letters, digits, "_.-~"


def setup(app: web.Application) -> None:
    """Mount every page, the static files and the template environment on `app`."""
    app[TEMPLATES] = make_environment()
    login_guard.setup(app, app[SERVICES].actions.clock)
    app.add_routes(routes)
    app.add_routes(ticket_pages.routes)
    app.add_routes(attachments.routes)
    app.add_routes(public_files.routes)
    app.add_routes(user_pages.routes)
    app.add_routes(canned_pages.routes)
    app.add_routes(stats_page.routes)
    app.add_routes(demo_pages.routes)
    app.add_routes(bulk_pages.routes)
    app.router.add_static("/static", STATIC_DIR, name="static")


@routes.get("/login")
async def login_form(request: web.Request) -> web.Response:
    return _login_page(request, error=None, status=200)


def _login_page(request: web.Request, *, error: str | None, status: int) -> web.Response:
    token = login_csrf(request)
    response = render(
        request,
        "login.html",
        status=status,
        login_token=token,
        error=error,
        next_path=_safe_next(request.query.get("next")),
    )
    set_cookie(request, response, LOGIN_CSRF_COOKIE, token)
    return response


@routes.post("/login")
async def login(request: web.Request) -> web.Response:
    form = await request.post()
    expected = request.cookies.get(LOGIN_CSRF_COOKIE)
    if not expected or not csrf_matches(expected, form.get(CSRF_FIELD)):
        return _login_page(request, error="csrf.refused", status=403)
    username, password = str(form.get("username", "")), str(form.get("password", ""))
    guard, address = request.app[LOGIN_GUARD], origin(request).address
    if not guard.admit(address, username):
        return _throttled(request)
    try:
        token = await _sign_in(request, guard, username, password)
    except Busy:
        return _throttled(request)
    if token is None:
        # Unknown, locked, or a wrong password: one answer, so it tells nobody which.
        return _login_page(request, error="login.refused", status=401)
    guard.forgive(address, username)
    response = see_other(_safe_next(str(form.get("next", ""))) or "/")
    set_cookie(request, response, SESSION_COOKIE, token)
    response.del_cookie(LOGIN_CSRF_COOKIE, path="/")
    return response


async def _sign_in(
    request: web.Request, guard: LoginGuard, username: str, password: str
) -> str | None:
    """A session token for a right password; the check runs on the guard's pool, outside any
    transaction, between counting the attempt (under the user's row lock) and opening the
    session."""
    db, moment = request.app[SERVICES].db, now(request)

    def known() -> bool:
        with db.read() as session:
            return logins.is_known(session, username)

    def reserve() -> logins.Attempt:
        with db.write() as session:
            return logins.reserve(session, username, now=moment)

    def finish(user_id: int, new_hash: str | None) -> str | None:
        with db.write() as session:
            return logins.finish(session, user_id, now=moment, new_hash=new_hash)

    async with guard.slot():
        is_known = await asyncio.to_thread(known)
        attempt = await asyncio.to_thread(reserve) if is_known else None
        matched = await guard.check(attempt.password_hash if attempt else None, password)
        if not matched or attempt is None or attempt.user_id is None:
            return None
        new_hash = await guard.rehash(attempt.password_hash, password)
    return await asyncio.to_thread(finish, attempt.user_id, new_hash)


def _throttled(request: web.Request) -> web.Response:
    # Plain text, not the form: a flood is mostly answered here, and it should cost little.
    response = refused(request, "login.throttled", 429)
    response.headers["Retry-After"] = "60"
    return response


@routes.post("/logout")
@page()
async def logout(request: web.Request) -> web.Response:
    token = visitor(request).token
    db = request.app[SERVICES].db

    def close() -> None:
        with db.write() as session:
            session_store.close_session(session, token)

    await asyncio.to_thread(close)
    response = see_other("/login")
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


@routes.post("/locale")
@page()
async def switch_locale(request: web.Request) -> web.Response:
    form = await request.post()
    locale = "en" if form.get("locale") == "en" else "id"
    user_id = visitor(request).user.id
    db = request.app[SERVICES].db

    def save() -> None:
        with db.write() as session:
            user = session.get(User, user_id)
            if user is not None:
                user.locale = locale
                session.add(user)

    await asyncio.to_thread(save)
    raise web.HTTPSeeOther(_safe_next(str(form.get("next", ""))) or "/")


def queue_filter(request: web.Request) -> queue_store.QueueFilter:
    """The queue's filters from the query; one no ticket could match (a NUL in it, an unknown
    status) is ignored rather than refused, so a bad link still opens the queue.

    A search looks in every status unless a status is chosen: the status is a refinement of
    the search, not a gate in front of it (a resolved ticket's number must be found)."""
    query = {k: v for k, v in request.query.items() if is_storable(v)}
    user = visitor(request).user
    q = query.get("q") or None
    status = query.get("status") or ("all" if q else "open")
    return queue_store.QueueFilter(
        status=status if status in ("open", "all", *queue_store.STATUSES) else "open",
        channel=query.get("channel") or None,
        category=query.get("category") or None,
        opd=query.get("opd") or None,
        overdue=query.get("overdue") == "1",
        answered=query.get("answered") == "1",
        flag=query.get("flag") or None,
        q=q,
        only_opd=None if user.role in STAFF else (user.opd or "-"),
        page=_whole(query.get("page"), 1),
        view=query.get("view") if query.get("view") in queue_store.VIEWS else None,
        me=user.id,
        sort=query.get("sort") if query.get("sort") in queue_store.SORTS else "urgency",
        per_page=_whole(query.get("per"), queue_store.PAGE_SIZE),
    )


def _whole(text: str | None, default: int) -> int:
    try:
        return int(text or default)
    except ValueError:
        return default


def _since(request: web.Request, moment: datetime) -> datetime:
    """When the page was opened: the live list marks what arrived after it."""
    try:
        since = datetime.fromisoformat(request.query.get("since", ""))
    except ValueError:
        return moment
    return since if since.tzinfo is not None else moment


@routes.get("/")
@page()
async def queue(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    wanted = queue_filter(request)
    moment = now(request)
    partial = request.query.get("partial") == "1"
    since = _since(request, moment)

    def read() -> queue_store.QueuePage:
        with services.db.read() as session:
            return queue_store.queue_page(session, wanted, moment)

    found = await asyncio.to_thread(read)
    values: dict[str, Any] = {
        "found": found,
        "wanted": wanted,
        "now": moment,
        "since": since,
        "deadline_of": deadlines.next_deadline,
        "statuses": ("open", *queue_store.STATUSES, "all"),
        "status_chosen": bool(request.query.get("status")),
        "views": queue_store.VIEWS,
        "sorts": queue_store.SORTS,
        "page_sizes": queue_store.PAGE_SIZES,
        "categories": services.categories,
        "opds": services.opds,
        "page_link": lambda n: _with_page(request, n),
        "view_link": lambda v: "/?" + urlencode({"view": v}),
        "poll_url": _poll_url(request, moment),
        "flat_counts": json.dumps(_flat(found.counts), sort_keys=True),
        "bulk_done": request.query.get("bulk"),
        "bulk_skipped": request.query.get("skipped", "").split(),
        "holders": found.assignable,
    }
    if partial:
        return render(request, "_queue_list.html", **values)
    return render(request, "queue.html", **values)


def _poll_url(request: web.Request, moment: datetime) -> str:
    query = {k: v for k, v in request.query.items() if k not in ("partial", "since")}
    return str(request.rel_url.with_query({**query, "partial": "1", "since": moment.isoformat()}))


def _flat(counts: dict[str, dict[str, int]]) -> dict[str, int]:
    """{"status.open": 4, "views.mine": 2, ...}: what the live refresh writes into the page."""
    return {f"{group}.{key}": n for group, values in counts.items() for key, n in values.items()}


def _with_page(request: web.Request, number: int) -> str:
    query = {k: v for k, v in request.query.items() if k not in ("page", "partial", "since")}
    return str(request.rel_url.with_query({**query, "page": str(number)}))


def see_other(location: str) -> web.Response:
    """A redirect that can still carry cookies (raising HTTPSeeOther would drop them)."""
    return web.Response(status=303, headers={"Location": location})


def _safe_next(target: str | None) -> str:
    """Only a path on this site, else "" (the queue): never another host (`//evil`, `/\\evil`,
    `https://...`). Browsers drop tabs and newlines from a URL, so `/<TAB>/evil` would become
    `//evil`: any control character or backslash refuses the target outright, and whatever
    else a header cannot carry (spaces, non-ASCII) is percent-encoded."""
    if not target or _NOT_IN_A_PATH.search(target):
        return ""
    path = quote(target, safe=_PATH_SAFE)
    if not path.startswith("/") or path.startswith("//"):
        return ""
    return path
