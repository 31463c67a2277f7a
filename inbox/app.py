"""The staff web application: pages, JSON API, and every channel's webhooks."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Sequence

from aiohttp import web

from inbox import api, pages
from inbox.context import SERVICES, InboxServices
from inbox.error_middleware import error_pages
from inbox.proxies import is_https
from inbox.views import CONTENT_SECURITY_POLICY

log = logging.getLogger(__name__)

CleanupContext = Callable[[web.Application], AsyncIterator[None]]
ResponseHook = Callable[[web.Request, web.StreamResponse], Awaitable[None]]
HSTS = "max-age=31536000"  # a year; no includeSubDomains: the region's other hosts are not ours
BODY_LIMIT = 2 * 1024 * 1024
# The routes that take an OPD's answer with its files (the page's form and the API's multipart).
_ANSWER_ROUTES = frozenset({"/tickets/{number}/actions", "/api/tickets/{number}/actions"})


def security_headers(webhooks: Collection[web.AbstractResource | None]) -> ResponseHook:
    """The browser protections, added to each response as it is sent unless its handler chose
    its own (attachments' CSP).

    A response-prepare hook, not a middleware: it must also reach the answers that the error
    pages' middleware (inbox/error_middleware.py) writes. Platforms' servers, not browsers,
    read the answers of the `webhooks`: they get only nosniff (the verification handshake
    echoes a query value)."""

    async def add(request: web.Request, response: web.StreamResponse) -> None:
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        if is_https(request):  # browsers that once came over HTTPS never fall back to HTTP
            headers.setdefault("Strict-Transport-Security", HSTS)
        if request.match_info.route.resource in webhooks:
            return
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)

    return add


def room_for_answer_files(upload_max_size: int) -> web.Middleware:
    """A bigger body only where staff post an answer's files: both handlers check the session
    or token before they read the body, so nobody unsigned can make the server take
    `upload_max_size` bytes, and every other route (sign-in, webhooks) keeps BODY_LIMIT."""

    @web.middleware
    async def allow(request: web.Request, handler: web.Handler) -> web.StreamResponse:
        resource = request.match_info.route.resource
        if request.method == "POST" and resource and resource.canonical in _ANSWER_ROUTES:
            request = request.clone(client_max_size=upload_max_size)
        return await handler(request)

    return allow


def build_app(
    services: InboxServices,
    *,
    webhook_routes: Sequence[web.RouteDef] = (),
    contexts: Sequence[CleanupContext] = (),
    upload_max_size: int = BODY_LIMIT,
) -> web.Application:
    """The app with the API and the channels' webhook routes; `contexts` start and stop
    the background parts (intake writer, pollers, outbox, scheduler) with the app."""
    middlewares = [error_pages, room_for_answer_files(max(upload_max_size, BODY_LIMIT))]
    app = web.Application(client_max_size=BODY_LIMIT, middlewares=middlewares)
    app[SERVICES] = services
    app.add_routes(api.routes)
    pages.setup(app)
    webhooks = frozenset(route.resource for route in app.add_routes(list(webhook_routes)))
    app.on_response_prepare.append(security_headers(webhooks))
    app.cleanup_ctx.extend(contexts)
    return app
