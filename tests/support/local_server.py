"""Serving a fake platform's aiohttp app on a free port of 127.0.0.1."""

from __future__ import annotations

import socket

from aiohttp import web


def free_port() -> int:
    """A port nothing listens on now, for a server the test starts in another process."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def serve_locally(app: web.Application) -> tuple[web.AppRunner, int]:
    """Start `app` on a free local port; clean up with `await runner.cleanup()`."""
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, port
