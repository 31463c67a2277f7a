"""The HTTP side of Meta's webhook for one Page or Instagram account: handshake and deliveries."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from aiohttp import web
from pydantic import SecretStr

from channels.base import Inbound, IntakeSink, Routes
from channels.meta.parse import Dialect
from channels.meta.webhook_parse import HookContext, parse_webhook
from channels.webhook import (
    SIGNATURE_HEADER,
    Signature,
    read_bounded,
    store_delivery,
    subscription_handshake,
)

log = logging.getLogger(__name__)


class MetaReceiver:
    """GET answers Meta's subscription handshake; POST stores a signed delivery, then says 200.

    `on_stored` gets what a delivery stored (to fetch its media). Until `sink` is set (the
    channel's start), deliveries get 503 and Meta retries them.
    """

    def __init__(
        self,
        *,
        dialect: Dialect,
        account: str,
        own_ids: frozenset[str],
        app_secret: SecretStr,
        verify_token: SecretStr,
        max_body_bytes: int,
        clock: Callable[[], datetime],
        on_stored: Callable[[IntakeSink, Sequence[Inbound]], None],
    ) -> None:
        self.dialect = dialect
        self.account = account
        self.own_ids = own_ids
        self.signature = Signature(app_secret)
        self.verify_token = verify_token
        self.max_body_bytes = max_body_bytes
        self.clock = clock
        self.on_stored = on_stored
        self.sink: IntakeSink | None = None

    @property
    def path(self) -> str:
        return f"/webhooks/{self.dialect.channel}"

    def routes(self) -> Routes:
        return [web.get(self.path, self.verify), web.post(self.path, self.receive)]

    async def verify(self, request: web.Request) -> web.Response:
        return subscription_handshake(request, self.verify_token, self.dialect.channel)

    async def receive(self, request: web.Request) -> web.Response:
        body = await read_bounded(request, self.max_body_bytes)
        if body is None:
            return web.Response(status=413, text="body too large")
        if not self.signature.valid(body, request.headers.get(SIGNATURE_HEADER)):
            log.warning(
                "%s webhook with a missing or wrong signature from %s",
                self.dialect.channel,
                request.remote,
            )
            return web.Response(status=401, text="bad signature")
        ctx = HookContext(self.dialect, self.account, self.own_ids, self.clock())
        items = parse_webhook(body, ctx)
        answer, result = await store_delivery(self.sink, items, self.dialect.channel, log)
        if result is not None and result.stored and self.sink is not None:
            self.on_stored(self.sink, items)
        return answer
