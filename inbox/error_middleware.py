"""aiohttp's bare answers ("404: Not Found" for an unknown path, a missing attachment, ...) as
the error page, with the signed-in visitor's language and menu."""

from __future__ import annotations

from aiohttp import web

from inbox.auth import Handler
from inbox.context import VISITOR_KEY
from inbox.error_pages import error_page, wants_html
from inbox.sessions import load_visitor


@web.middleware
async def error_pages(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400 or not wants_html(request):
            raise
        if VISITOR_KEY not in request:  # no page handler ran: whose language is it?
            found = await load_visitor(request)
            if found is not None:
                request[VISITOR_KEY] = found
        return error_page(request, exc.status)
