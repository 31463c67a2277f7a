"""User management for supervisors and admins: list, add, change role and OPD, unlock after a
lock-out; admins also disable and enable accounts, set a new password and revoke API tokens.
Every change is written to the accounts' audit trail (store/account_changes.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from aiohttp import web
from sqlmodel import col, select

from inbox.context import SERVICES
from inbox.i18n import translate
from inbox.sessions import MANAGERS, now, page, visitor
from inbox.views import render
from store import account_changes
from store import sessions as session_store
from store.models import User, UserEvent
from store.users import (
    ROLES,
    USERNAME_PATTERN,
    TokenInfo,
    UserError,
    add_user,
    disable_user,
    list_tokens,
    revoke_token,
)

routes = web.RouteTableDef()
ADMINS = frozenset({"admin"})  # disabling accounts and revoking tokens
NAMED = "/users/{username:" + USERNAME_PATTERN + "}"  # a name no account can have is not found
DONE = frozenset({"added", "changed", "disabled", "enabled", "password_reset", "unlocked"})


def _roles_for(user: User) -> list[str]:
    # Only an admin makes another admin.
    return [r for r in ROLES if r != "admin" or user.role == "admin"]


async def _users_page(
    request: web.Request, *, message: str | None = None, error: str | None = None, status=200
) -> web.Response:
    services = request.app[SERVICES]
    admin = visitor(request).user.role == "admin"

    def read() -> tuple[list[User], list[TokenInfo], list[UserEvent]]:
        with services.db.read() as session:
            users = list(session.exec(select(User).order_by(col(User.username))).all())
            tokens = list_tokens(session) if admin else []
            return users, tokens, account_changes.recent(session)

    users, tokens, events = await asyncio.to_thread(read)
    done = request.query.get("done")
    return render(
        request,
        "users.html",
        status=status,
        users=users,
        tokens=tokens,
        events=events,
        done=done if done in DONE else None,
        done_name=request.query.get("name", ""),
        admin=admin,
        visitor_name=visitor(request).user.username,
        roles=_roles_for(visitor(request).user),
        opds=services.opds,
        opd_names={o.code: o.name for o in services.opds},
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
        return await _users_page(request, error=_text(request, "users.invalid.role"), status=422)
    if opd and opd not in {o.code for o in services.opds}:
        return await _users_page(request, error=_text(request, "users.invalid.opd"), status=422)
    actor = visitor(request).user.username

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
            account_changes.record(
                session, actor, username, "added", now=moment, role=role, opd=user.opd
            )

    try:
        await asyncio.to_thread(create)
    except UserError as exc:
        return await _users_page(request, error=_reason(request, exc), status=422)
    return await _users_page(request, message=username)


def _done(action: str, username: str) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(f"/users?done={action}&name={username}")


@routes.post(NAMED + "/role")
@page(MANAGERS)
async def change_role(request: web.Request) -> web.Response:
    form = await request.post()
    services = request.app[SERVICES]
    me = visitor(request).user
    username = request.match_info["username"]
    role = str(form.get("role", ""))
    opd = str(form.get("opd") or "") or None
    if username == me.username:
        # Demoting oneself may leave no one able to undo it.
        return await _users_page(request, error=_text(request, "users.not_self_role"), status=422)
    if role not in _roles_for(me):
        return await _users_page(request, error=_text(request, "users.invalid.role"), status=422)
    if opd and opd not in {o.code for o in services.opds}:
        return await _users_page(request, error=_text(request, "users.invalid.opd"), status=422)
    moment = now(request)

    def write() -> None:
        with services.db.write() as session:
            target = session.exec(select(User).where(User.username == username)).first()
            if target is not None and target.role == "admin" and me.role != "admin":
                raise UserError("only an admin changes an admin", key="admin_only")
            account_changes.change_role(session, username, role, opd, actor=me.username, now=moment)

    return await _changed(request, write, "changed", username)


@routes.post(NAMED + "/enable")
@page(ADMINS)
async def enable(request: web.Request) -> web.Response:
    db = request.app[SERVICES].db
    username = request.match_info["username"]
    actor, moment = visitor(request).user.username, now(request)

    def write() -> None:
        with db.write() as session:
            account_changes.enable(session, username, actor=actor, now=moment)

    return await _changed(request, write, "enabled", username)


@routes.post(NAMED + "/password")
@page(ADMINS)
async def reset_password(request: web.Request) -> web.Response:
    form = await request.post()
    db = request.app[SERVICES].db
    username = request.match_info["username"]
    password = str(form.get("password", ""))
    actor, moment = visitor(request).user.username, now(request)

    def write() -> None:
        with db.write() as session:
            account_changes.reset_password(session, username, password, actor=actor, now=moment)

    return await _changed(request, write, "password_reset", username)


async def _changed(
    request: web.Request, write: Callable[[], None], done: str, username: str
) -> web.Response:
    """Write one change to an account, then back to the list saying so; an unknown account is
    404, a refused change the page again with the reason."""
    try:
        await asyncio.to_thread(write)
    except UserError as exc:
        if exc.key == "unknown":
            raise web.HTTPNotFound() from exc
        return await _users_page(request, error=_reason(request, exc), status=422)
    raise _done(done, username)


def _reason(request: web.Request, error: UserError) -> str:
    """A translated reason where the page has one, else the store's own words."""
    return _text(request, f"users.invalid.{error.key}") if error.key else str(error)


# A name no account can have (NUL, a slash, 400 characters) is simply not found.
@routes.post(NAMED + "/unlock")
@page(MANAGERS)
async def unlock(request: web.Request) -> web.Response:
    db = request.app[SERVICES].db
    username = request.match_info["username"]
    actor, moment = visitor(request).user.username, now(request)

    def write() -> bool:
        with db.write() as session:
            unlocked = session_store.unlock(session, username)
            if unlocked:
                account_changes.record(session, actor, username, "unlocked", now=moment)
            return unlocked

    if not await asyncio.to_thread(write):
        raise web.HTTPNotFound()
    raise _done("unlocked", username)


@routes.post(NAMED + "/disable")
@page(ADMINS)
async def disable(request: web.Request) -> web.Response:
    db = request.app[SERVICES].db
    username = request.match_info["username"]
    if username == visitor(request).user.username:
        # An admin who locks themselves out may leave no one able to undo it.
        return await _users_page(request, error=_text(request, "users.not_self"), status=422)
    actor, moment = visitor(request).user.username, now(request)

    def write() -> None:
        with db.write() as session:
            ended, revoked = disable_user(session, username, now=moment)
            account_changes.record(
                session, actor, username, "disabled", now=moment, sessions=ended, tokens=revoked
            )

    try:
        await asyncio.to_thread(write)
    except UserError as exc:
        raise web.HTTPNotFound() from exc
    raise _done("disabled", username)


@routes.post(r"/tokens/{token_id:\d{1,18}}/revoke")  # beyond 18 digits: no such id
@page(ADMINS)
async def revoke(request: web.Request) -> web.Response:
    db = request.app[SERVICES].db
    token_id = int(request.match_info["token_id"])
    moment = now(request)

    def write() -> bool:
        with db.write() as session:
            return revoke_token(session, token_id, now=moment)

    if not await asyncio.to_thread(write):
        raise web.HTTPNotFound()
    raise web.HTTPSeeOther("/users")


def _text(request: web.Request, key: str) -> str:
    return translate(key, visitor(request).locale)
