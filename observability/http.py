"""The web app's part in observability: a request id and context for every request, webhook
timings, and `GET /metrics` behind its token or allow-list."""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import itertools
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence

from aiohttp import hdrs, web
from prometheus_client import CONTENT_TYPE_LATEST, Counter, generate_latest

from inbox.context import SERVICES
from inbox.proxies import origin
from networks import Network, parse_networks
from observability.config import MetricsConfig
from observability.context import bound
from observability.metrics import Metrics

REQUEST_ID_HEADER = "X-Request-ID"
# An incoming id is kept only if it is short and plain (nginx's $request_id is 32 hex digits):
# it goes into every log line of the request, so it must not be able to forge one.
_SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_FORWARDING = (hdrs.X_FORWARDED_FOR, hdrs.FORWARDED, "X-Real-IP")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Middleware = Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]


class RequestIds:
    """The caller's X-Request-ID when it is sane, else one of ours: a random prefix per
    process and a counter (unique, and cheaper than fresh randomness per request)."""

    def __init__(self) -> None:
        self._prefix = secrets.token_hex(8)
        self._counter = itertools.count(1)

    def of(self, request: web.Request) -> str:
        given = request.headers.get(REQUEST_ID_HEADER)
        if given is not None and _SANE_ID.fullmatch(given):
            return given
        return f"{self._prefix}{next(self._counter):016x}"


def observe(metrics: Metrics, webhook_channels: Mapping[str, str]) -> Middleware:
    """The middleware: binds the request id (answered in `X-Request-ID`), the channel of a
    webhook and the ticket a path names to the request's log lines, and times webhooks.

    `webhook_channels` maps each webhook route's path to its channel's name."""

    ids = RequestIds()
    # Labelled children looked up once: `labels()` costs more than the observation itself.
    latency = {p: metrics.webhook_latency.labels(p, c) for p, c in webhook_channels.items()}
    answers: dict[tuple[str, int], Counter] = {}

    def count(path: str, status: int) -> None:
        child = answers.get((path, status))
        if child is None:
            child = metrics.webhook_responses.labels(path, webhook_channels[path], str(status))
            answers[(path, status)] = child
        child.inc()

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        request_id = ids.of(request)
        resource = request.match_info.route.resource
        path = resource.canonical if resource is not None else ""
        channel = webhook_channels.get(path)
        started, status = time.perf_counter(), 500
        with bound(request_id=request_id, channel=channel, ticket=request.match_info.get("number")):
            try:
                response = await handler(request)
                status = response.status
            except web.HTTPException as exc:
                status = exc.status
                exc.headers[REQUEST_ID_HEADER] = request_id
                raise
            finally:
                if channel is not None:
                    latency[path].observe(time.perf_counter() - started)
                    count(path, status)
        if not response.prepared:  # a streamed answer has sent its headers already
            response.headers[REQUEST_ID_HEADER] = request_id
        return response

    return middleware


def metrics_handler(metrics: Metrics, config: MetricsConfig) -> Handler:
    """`GET /metrics`: 401 without the configured bearer token, 403 from an address outside
    the allow-list. With both configured, a scrape needs both."""
    token = config.token.get_secret_value().encode()
    allowed = parse_networks(config.allow)

    async def handle(request: web.Request) -> web.Response:
        trusted = request.app[SERVICES].trusted_proxies
        if allowed and not _allowed_address(request, allowed, trusted):
            raise web.HTTPForbidden(text="forbidden\n")
        if token and not _bearer_matches(request, token):
            raise web.HTTPUnauthorized(
                text="unauthorized\n", headers={hdrs.WWW_AUTHENTICATE: 'Bearer realm="metrics"'}
            )
        # Off the loop: the database gauges query as the scrape reads them.
        body = await asyncio.to_thread(generate_latest, metrics.registry)
        return web.Response(
            body=body,
            headers={hdrs.CONTENT_TYPE: CONTENT_TYPE_LATEST, hdrs.CACHE_CONTROL: "no-store"},
        )

    return handle


def _bearer_matches(request: web.Request, token: bytes) -> bool:
    scheme, _, given = request.headers.get(hdrs.AUTHORIZATION, "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token)


def _allowed_address(
    request: web.Request, allowed: Sequence[Network], trusted_proxies: Sequence[Network]
) -> bool:
    peer = request.remote or ""
    if not _in(peer, trusted_proxies) and any(h in request.headers for h in _FORWARDING):
        # Forwarded by a proxy Kanal was not told to trust: the peer is the proxy, not the
        # scraper, and an allowed 127.0.0.1 would open /metrics to whoever reaches the proxy.
        return False
    return _in(origin(request).address, allowed)


def _in(address: str, networks: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    return any(ip in network for network in networks)
