"""User management for supervisors and admins: list, add, unlock after a lock-out."""

from __future__ import annotations

import asyncio

from aiohttp import web
from sqlmodel import col, select

from inbox.context import SERVICES
from inbox.sessions import MANAGERS, now, page, visitor
from inbox.views import render
from store import sessions as session_store
from store.models import User
from store.users import ROLES, UserError, add_user

routes = web.RouteTableDef()


def _roles_for(user: User) -> list[str]:
    # Only an admin makes another admin.
    return [r for r in ROLES if r != "admin" or user.role == "admin"]


async def _users_page(
    request: web.Request, *, message: str | None = None, error: str | None = None, status=200
) -> web.Response:
    services = request.app[SERVICES]

    def read() -> list[User]:
        with services.db.read() as session:
            return list(session.exec(select(User).order_by(col(User.username))).all())

    return render(
        request,
        "users.html",
        status=status,
        users=await asyncio.to_thread(read),
        roles=_roles_for(visitor(request).user),
        opds=services.opds,
        now=now(request),
        message=message,
        error=error,
    )


@routes.get("/users")
@page(MANAGERS)
async def users(request: web.Request) -> web.Response:
    return await _users_page(request)


@routes.post("/users")
@page(MANAGERS)
async def create_user(request: web.Request) -> web.Response:
    form = await request.post()
    services = request.app[SERVICES]
    username = str(form.get("username", "")).strip()
    role = str(form.get("role", ""))
    opd = str(form.get("opd") or "") or None
    locale = "en" if form.get("locale") == "en" else "id"
    moment = now(request)
    if role not in _roles_for(visitor(request).user):
        return await _users_page(request, error=f"role {role!r}", status=422)
    if opd and opd not in {o.code for o in services.opds}:
        return await _users_page(request, error=f"OPD {opd!r}", status=422)

    def create() -> None:
        with services.db.write() as session:
            user = add_user(
                session,
                username,
                str(form.get("password", "")),
                role,
                opd=opd if role == "opd" else None,
                now=moment,
            )
            user.locale = locale

    try:
        await asyncio.to_thread(create)
    except UserError as exc:
        return await _users_page(request, error=str(exc), status=422)
    return await _users_page(request, message=username)


@routes.post("/users/{username}/unlock")
@page(MANAGERS)
async def unlock(request: web.Request) -> web.Response:
    db = request.app[SERVICES].db
    username = request.match_info["username"]

    def write() -> bool:
        with db.write() as session:
            return session_store.unlock(session, username)

    if not await asyncio.to_thread(write):
        raise web.HTTPNotFound()
    raise web.HTTPSeeOther("/users")
