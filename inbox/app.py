"""The staff web application: pages, JSON API, and every channel's webhooks."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence

from aiohttp import web

from inbox import api, pages
from inbox.auth import Handler
from inbox.context import SERVICES, InboxServices
from inbox.views import CONTENT_SECURITY_POLICY

log = logging.getLogger(__name__)

CleanupContext = Callable[[web.Application], AsyncIterator[None]]


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    return response


def build_app(
    services: InboxServices,
    *,
    webhook_routes: Sequence[web.RouteDef] = (),
    contexts: Sequence[CleanupContext] = (),
    client_max_size: int = 2 * 1024 * 1024,
) -> web.Application:
    """The app with the API and the channels' webhook routes; `contexts` start and stop
    the background parts (intake writer, pollers, outbox, scheduler) with the app."""
    app = web.Application(middlewares=[security_headers], client_max_size=client_max_size)
    app[SERVICES] = services
    app.add_routes(api.routes)
    pages.setup(app)
    app.add_routes(list(webhook_routes))
    app.cleanup_ctx.extend(contexts)
    return app
