"""The demo outbox: the replies sent to `main.py simulate`'s sample reporters on the simulated
channel and whether they arrived, so a newcomer sees the whole loop without a real platform."""

from __future__ import annotations

import asyncio

from aiohttp import web

from channels.registry import channel_spec
from inbox.context import SERVICES
from inbox.sessions import STAFF, page
from inbox.views import render
from store.outbound import SentReply, replies_on

routes = web.RouteTableDef()
SIMULATED = channel_spec("simulated").name  # fails at import if the registry loses it


@routes.get("/demo/outbox")
@page(STAFF)
async def outbox(request: web.Request) -> web.Response:
    db = request.app[SERVICES].db

    def read() -> list[SentReply]:
        with db.read() as session:
            return replies_on(session, SIMULATED)

    return render(request, "demo_outbox.html", replies=await asyncio.to_thread(read))
