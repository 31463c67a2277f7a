"""The JSON API for staff and scripts: tickets, actions, categories, OPDs, health."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from aiohttp import web
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError

from inbox.auth import current_user, require_user
from inbox.context import SERVICES, InboxServices
from inbox.openapi import openapi_document
from inbox.serialize import event_json, message_json, ticket_summary
from inbox.sessions import MANAGERS
from store import stats
from store import tickets as ticket_queries
from store.models import Ticket, User
from store.queue import STATUSES
from store.text import is_storable
from triage.action_requests import parse_action
from triage.actions import ActionInvalid, TicketNotFound
from triage.states import Action, TransitionError

routes = web.RouteTableDef()

# What a department's liaison may do on the tickets forwarded to it.
OPD_ACTIONS = frozenset({Action.ACKNOWLEDGE, Action.RESOLVE, Action.NOTE})


def json_error(http_status: int, message: str, **extra: Any) -> web.Response:
    return web.json_response({"error": message, **extra}, status=http_status)


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    leading = sorted(leader.name for leader in services.leaders if leader.leading)
    if await asyncio.to_thread(services.db.ping):
        return web.json_response({"status": "ok", "database": "ok", "leading": leading})
    return web.json_response(
        {"status": "unavailable", "database": "unreachable", "leading": leading}, status=503
    )


@routes.get("/api/openapi.json")
async def openapi(request: web.Request) -> web.Response:
    return web.json_response(openapi_document())


@routes.get("/api/tickets")
@require_user
async def list_tickets(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    user = current_user(request)
    query = request.query
    problem = _list_problem(query)
    if problem:
        return json_error(400, problem)
    wanted = ticket_queries.TicketFilter(
        status=query.get("status") or None,
        channel=query.get("channel") or None,
        q=query.get("q") or None,
        opd=user.opd if user.role == "opd" else None,
        limit=int(query.get("limit", "50")),
        cursor=query.get("cursor") or None,
    )

    def read() -> dict[str, Any]:
        with services.db.read() as session:
            rows, next_cursor = ticket_queries.list_tickets(session, wanted)
            items = [ticket_summary(t, r, services.tz) for t, r in rows]
        return {"items": items, "next_cursor": next_cursor}

    try:
        return web.json_response(await asyncio.to_thread(read))
    except ticket_queries.BadCursor as exc:
        return json_error(400, str(exc))


def _list_problem(query: Mapping[str, str]) -> str | None:
    """Why the ticket list's query cannot be answered, if it cannot (a 400, never a 500)."""
    limit = query.get("limit", "50")
    if not limit.isascii() or not limit.isdigit():
        return "limit must be a whole number"
    if not 1 <= int(limit) <= ticket_queries.MAX_PAGE:
        return f"limit must be between 1 and {ticket_queries.MAX_PAGE}"
    status = query.get("status")
    if status and status not in STATUSES:
        return f"status must be one of {', '.join(STATUSES)}"
    for name in ("channel", "q", "cursor"):
        if not is_storable(query.get(name, "")):
            return f"{name} holds a NUL character, which no ticket can contain"
    return None


@routes.get("/api/tickets/{number}")
@require_user
async def get_ticket(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    user = current_user(request)
    number = request.match_info["number"]

    def read() -> dict[str, Any] | None:
        with services.db.read() as session:
            found = ticket_queries.get_ticket(session, number)
            if found is None or not _may_see(user, found[0]):
                return None
            ticket, reporter = found
            body = ticket_summary(ticket, reporter, services.tz)
            body["messages"] = [
                message_json(m, a, services.tz)
                for m, a in ticket_queries.conversation(session, ticket.id or 0)
            ]
            body["events"] = [
                event_json(e, services.tz)
                for e in ticket_queries.audit_trail(session, ticket.id or 0)
            ]
            return body

    body = await asyncio.to_thread(read)
    if body is None:
        return json_error(404, f"no ticket {number}")
    return web.json_response(body)


@routes.post("/api/tickets/{number}/actions")
@require_user
async def act(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    user = current_user(request)
    number = request.match_info["number"]
    try:
        wanted = parse_action(await request.json())
    except ValidationError as exc:
        return json_error(422, "the action body is not valid", details=_details(exc))
    except ValueError:  # not JSON at all
        return json_error(422, "the body must be a JSON object")
    refusal = await asyncio.to_thread(_refusal, services, user, number, wanted.action)
    if refusal:
        return refusal
    try:
        await asyncio.to_thread(services.actions.apply, number, wanted, user.username)
    except TicketNotFound:
        return json_error(404, f"no ticket {number}")
    except TransitionError as exc:
        return json_error(409, str(exc), status=exc.status.value, action=exc.action.value)
    except ActionInvalid as exc:
        return json_error(422, str(exc))
    except DBAPIError:
        return json_error(503, "the database is not reachable; try again")
    return await get_ticket(request)


@routes.get("/api/categories")
@require_user
async def categories(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    return web.json_response(
        [{"code": c.code, "name": c.name, "opd": c.opd} for c in services.categories]
    )


@routes.get("/api/opds")
@require_user
async def opds(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    return web.json_response([{"code": o.code, "name": o.name} for o in services.opds])


@routes.get("/api/stats")
@require_user
async def period_stats(request: web.Request) -> web.Response:
    """The figures of reports received from `from` to `to` (store.stats PERIOD); region-wide,
    so for supervisors and admins only, like the statistics page."""
    services = request.app[SERVICES]
    if current_user(request).role not in MANAGERS:
        return json_error(403, "only supervisors and admins may read the statistics")
    now = services.actions.clock()
    try:
        start, end = stats.query_range(
            request.query.get("from"), request.query.get("to"), services.tz, now
        )
    except ValueError as exc:
        return json_error(400, str(exc))

    def read() -> dict[str, Any]:
        with services.db.read() as session:
            return stats.period_stats(session, start, end, as_of=min(end, now))

    return web.json_response(await asyncio.to_thread(read))


def _may_see(user: User, ticket: Ticket) -> bool:
    """An OPD's liaison sees exactly the tickets currently forwarded to that OPD."""
    if user.role != "opd":
        return True
    return ticket_queries.is_forwarded_to(ticket, user.opd)


def _refusal(
    services: InboxServices, user: User, number: str, action: Action
) -> web.Response | None:
    if user.role != "opd":
        return None
    with services.db.read() as session:
        found = ticket_queries.get_ticket(session, number)
    if found is None or not _may_see(user, found[0]):
        return json_error(404, f"no ticket {number}")
    if action not in OPD_ACTIONS:
        return json_error(403, f"an OPD account cannot {action.value}")
    return None


def _details(exc: ValidationError) -> list[dict[str, str]]:
    return [{"field": _field(e), "problem": e["msg"]} for e in exc.errors()]


def _field(error: Any) -> str:
    """The body's field an error is about; the union's errors start with the action's name."""
    if error["type"].startswith("union_tag"):
        return "action"
    return ".".join(str(part) for part in error["loc"][1:])
