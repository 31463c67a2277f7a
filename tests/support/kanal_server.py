"""Kanal's own web app (webhooks, inbox, /metrics) served on a local port for a test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp.test_utils import TestServer

from runtime import Runtime


@asynccontextmanager
async def kanal_server(runtime: Runtime, port: int | None = None) -> AsyncIterator[TestServer]:
    """The runtime's app listening on 127.0.0.1 (a free port unless `port`) until the block
    ends; platforms' fakes and the test's own client reach it at `server.make_url(path)`."""
    server = TestServer(await runtime.web_app(), port=port)
    await server.start_server()
    try:
        yield server
    finally:
        await server.close()
