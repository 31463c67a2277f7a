"""The JSON API for staff and scripts: tickets, actions, categories, OPDs, health."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web
from pydantic import BaseModel, TypeAdapter, ValidationError
from sqlalchemy.exc import DBAPIError

from inbox import schemas
from inbox.auth import current_user, require_user
from inbox.context import SERVICES, InboxServices
from inbox.openapi import openapi_document
from inbox.queries import ActionQuery, BadQuery, PeriodQuery, TicketQuery
from inbox.reporter_history import reporter_history
from inbox.serialize import ticket_detail, ticket_summary
from inbox.sessions import MANAGERS
from inbox.uploads import Upload, refusal_words, store_uploads, uploads_of
from store import stats
from store import tickets as ticket_queries
from store.models import Ticket, User
from store.queue import holder_names
from triage.action_requests import parse_action
from triage.actions import ActionInvalid, HeldByOther, TicketNotFound
from triage.answer_files import FileRefused
from triage.states import Action, TransitionError

routes = web.RouteTableDef()

# What a department's liaison may do on the tickets forwarded to it.
OPD_ACTIONS = frozenset({Action.ACKNOWLEDGE, Action.ANSWER, Action.RESOLVE, Action.NOTE})
_CATEGORIES = TypeAdapter(list[schemas.Category])
_OPDS = TypeAdapter(list[schemas.CodeName])


def answer(body: BaseModel, status: int = 200) -> web.Response:
    """A response whose JSON is one of inbox.schemas' models, as the OpenAPI document says."""
    return web.json_response(body.model_dump(mode="json"), status=status)


def json_error(http_status: int, message: str) -> web.Response:
    return answer(schemas.Error(error=message), http_status)


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    leading = sorted(leader.name for leader in services.leaders if leader.leading)
    if await asyncio.to_thread(services.db.ping):
        return answer(schemas.Health(status="ok", database="ok", leading=leading))
    health = schemas.Health(status="unavailable", database="unreachable", leading=leading)
    return answer(health, 503)


@routes.get("/api/openapi.json")
async def openapi(request: web.Request) -> web.Response:
    return web.json_response(openapi_document())


@routes.get("/api/tickets")
@require_user
async def list_tickets(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    user = current_user(request)
    try:
        query = TicketQuery.parse(request.query)
    except BadQuery as exc:  # a 400, never a 500
        return json_error(400, str(exc))
    wanted = ticket_queries.TicketFilter(
        status=query.status,
        channel=query.channel,
        q=query.q,
        opd=user.opd if user.role == "opd" else None,
        limit=query.limit,
        cursor=query.cursor,
    )

    def read() -> schemas.TicketPage:
        with services.db.read() as session:
            rows, next_cursor = ticket_queries.list_tickets(session, wanted)
            names = holder_names(session, (t for t, _ in rows))
            items = [
                ticket_summary(t, r, services.tz, names.get(t.assignee_id or 0)) for t, r in rows
            ]
        return schemas.TicketPage(items=items, next_cursor=next_cursor)

    try:
        return answer(await asyncio.to_thread(read))
    except ticket_queries.BadCursor as exc:
        return json_error(400, str(exc))


@routes.get("/api/tickets/{number}")
@require_user
async def get_ticket(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    user = current_user(request)
    number = request.match_info["number"]

    def read() -> schemas.TicketDetail | None:
        with services.db.read() as session:
            found = ticket_queries.get_ticket(session, number)
            if found is None or not _may_see(user, found[0]):
                return None
            ticket, reporter = found
            return ticket_detail(
                ticket,
                reporter,
                ticket_queries.conversation(session, ticket.id or 0),
                ticket_queries.audit_trail(session, ticket.id or 0),
                services.tz,
                holder_names(session, [ticket]).get(ticket.assignee_id or 0),
                reporter_history(session, ticket, user),
            )

    body = await asyncio.to_thread(read)
    if body is None:
        return json_error(404, f"no ticket {number}")
    return answer(body)


@routes.post("/api/tickets/{number}/actions")
@require_user
async def act(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    user = current_user(request)
    number = request.match_info["number"]
    uploads: list[Upload] = []
    try:
        if request.content_type == "multipart/form-data":  # the body and its files
            form = await request.post()
            uploads = await asyncio.to_thread(uploads_of, form)  # spooled to disk
            body = json.loads(str(form.get("body", "")))
        else:
            body = await request.json()
        wanted = parse_action(body)
    except ValidationError as exc:
        return answer(_invalid(exc), 422)
    except ValueError:  # not JSON at all
        return json_error(422, "the body must be a JSON object")
    refusal = await asyncio.to_thread(_refusal, services, user, number, wanted.action)
    if refusal:
        return refusal
    # An OPD's liaison answers for the department, whichever operator holds the ticket.
    try:
        confirmed = ActionQuery.parse(request.query).confirm == "held" or user.role == "opd"
    except BadQuery as exc:
        return json_error(422, str(exc))
    try:
        stored = await store_uploads(services.data_dir, uploads, services.answer_files)
    except FileRefused as exc:
        return json_error(400, refusal_words(exc, "en" if user.locale == "en" else "id"))
    applied = False
    try:
        await asyncio.to_thread(
            services.actions.apply,
            number,
            wanted,
            user.username,
            confirmed=confirmed,
            files=stored.files,
        )
        applied = True
    except TicketNotFound:
        return json_error(404, f"no ticket {number}")
    except TransitionError as exc:
        refused = schemas.Refused(error=str(exc), status=exc.status, action=exc.action.value)
        return answer(refused, 409)
    except HeldByOther as exc:
        held = schemas.Held(error=str(exc), holder=exc.holder, action=exc.action.value)
        return answer(held, 409)
    except ActionInvalid as exc:
        return json_error(422, str(exc))
    except DBAPIError:
        return json_error(503, "the database is not reachable; try again")
    finally:
        if not applied:  # the action did not happen: its files go too
            await asyncio.to_thread(stored.undo)
    return await get_ticket(request)


@routes.get("/api/categories")
@require_user
async def categories(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    listed = [schemas.Category(code=c.code, name=c.name, opd=c.opd) for c in services.categories]
    return web.json_response(_CATEGORIES.dump_python(listed, mode="json"))


@routes.get("/api/opds")
@require_user
async def opds(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    listed = [schemas.CodeName(code=o.code, name=o.name) for o in services.opds]
    return web.json_response(_OPDS.dump_python(listed, mode="json"))


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
        query = PeriodQuery.parse(request.query)
        start, end = stats.query_range(query.from_, query.to, services.tz, now)
    except ValueError as exc:  # BadQuery too
        return json_error(400, str(exc))

    def read() -> schemas.Period:
        with services.db.read() as session:
            figures = stats.period_stats(session, start, end, as_of=min(end, now))
        return schemas.Period.model_validate(figures)

    return answer(await asyncio.to_thread(read))


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


def _invalid(exc: ValidationError) -> schemas.InvalidBody:
    return schemas.InvalidBody(
        error="the action body is not valid",
        details=[schemas.FieldProblem(field=_field(e), problem=e["msg"]) for e in exc.errors()],
    )


def _field(error: Any) -> str:
    """The body's field an error is about; the union's errors start with the action's name."""
    if error["type"].startswith("union_tag"):
        return "action"
    return ".".join(str(part) for part in error["loc"][1:])
