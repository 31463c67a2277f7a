"""Bulk actions on the queue: assign, reject as spam with a reason, merge into a chosen ticket,
mark read;
each ticket through TicketActions, as if acted on one by one."""

from __future__ import annotations

import asyncio
from urllib.parse import urlencode

from aiohttp import web

from inbox.context import SERVICES
from inbox.sessions import STAFF, page, visitor
from triage.action_requests import ActionRequest, Assign, MarkRead, Merge, Reject
from triage.actions import ActionInvalid, HeldByOther, TicketNotFound
from triage.states import Resolution, TransitionError

routes = web.RouteTableDef()
MAX_BULK = 100  # the largest page of the queue


def bulk_request(form: dict[str, str]) -> ActionRequest:
    """The one action the bulk form asks for; ActionInvalid when it names none."""
    op = form.get("op", "")
    if op == "assign":
        return Assign(assignee=form.get("assignee") or None)
    if op == "spam":
        return Reject(resolution=Resolution.SPAM, message=form.get("reason") or None)
    if op == "read":
        return MarkRead()
    if op == "merge" and form.get("into", "").strip():
        return Merge(into=form["into"].strip())
    raise ActionInvalid(f"unknown bulk action {op!r}")


@routes.post("/queue/bulk")
@page(STAFF)
async def bulk(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    user = visitor(request).user
    form = await request.post()
    numbers = [str(n) for n in form.getall("numbers", [])][:MAX_BULK]
    try:
        wanted = bulk_request({k: str(v) for k, v in form.items()})
    except ActionInvalid:
        raise web.HTTPSeeOther("/") from None
    done, skipped = 0, []
    for number in numbers:
        if number == getattr(wanted, "into", None):
            continue  # the ticket the others are merged into stays
        try:
            await asyncio.to_thread(services.actions.apply, number, wanted, user.username)
            done += 1
        except (HeldByOther, TransitionError, ActionInvalid, TicketNotFound):
            # Held by another operator or not allowed: left for the operator to open.
            skipped.append(number)
    query = {"bulk": str(done), "skipped": " ".join(skipped)}
    raise web.HTTPSeeOther("/?" + urlencode(query))
