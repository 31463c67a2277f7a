"""Every webhook channel (WhatsApp, Facebook, Instagram, Telegram) served by one web app on one
real intake, with signed posts as the platforms send them; for tests of bad deliveries."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

from channels.meta.facebook import FacebookChannel, FacebookConfig
from channels.meta.instagram import InstagramChannel, InstagramConfig
from channels.telegram.channel import SECRET_HEADER, TelegramChannel, TelegramConfig
from channels.whatsapp.channel import WhatsAppChannel, WhatsAppConfig
from conftest import FixedClock
from fake_meta_graph import FakeGraph
from fake_meta_graph_seed import FB_PAGE, IG_ACCOUNT, IG_PAGE
from fake_telegram_api import FakeTelegramBotApi
from fake_whatsapp_cloud import FakeWhatsAppCloud
from triage.intake import Intake

APP_SECRET = "meta-app-secret-for-tests"
TELEGRAM_SECRET = "kanal-webhook_secret-1"
TELEGRAM_TOKEN = "123456:TEST-token"
WA_ACCOUNT = "106540352242922"
PATHS = {
    "whatsapp": "/webhooks/whatsapp",
    "facebook": "/webhooks/facebook",
    "instagram": "/webhooks/instagram",
    "telegram": "/webhooks/telegram",
}


def signature(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class Webhooks:
    server: TestServer
    http: aiohttp.ClientSession

    def url(self, channel: str) -> str:
        return str(self.server.make_url(PATHS[channel]))

    async def post(self, channel: str, body: bytes) -> int:
        """One delivery, signed (Meta) or with the secret token (Telegram) as sent for real."""
        if channel == "telegram":
            headers = {SECRET_HEADER: TELEGRAM_SECRET}
        else:
            headers = {"X-Hub-Signature-256": signature(body)}
        headers["Content-Type"] = "application/json"
        async with self.http.post(self.url(channel), data=body, headers=headers) as response:
            await response.read()
            return response.status

    async def post_raw(self, channel: str, head: list[bytes], body: bytes) -> int:
        """A request written byte by byte, for header values no HTTP client would send."""
        host, port = self.server.host, self.server.port
        reader, writer = await asyncio.open_connection(host, port)
        try:
            lines = [
                f"POST {PATHS[channel]} HTTP/1.1".encode(),
                f"Host: {host}:{port}".encode(),
                b"Content-Type: application/json",
                f"Content-Length: {len(body)}".encode(),
                b"Connection: close",
                *head,
            ]
            writer.write(b"\r\n".join(lines) + b"\r\n\r\n" + body)
            await writer.drain()
            status_line = await reader.readline()
            return int(status_line.split()[1])
        finally:
            writer.close()


@asynccontextmanager
async def serve_webhooks(
    intake: Intake, tmp_path: Path, clock: FixedClock
) -> AsyncIterator[Webhooks]:
    """The four webhook channels on `intake`, against fakes of their platforms."""
    whatsapp_api = await FakeWhatsAppCloud().start()
    graph = await FakeGraph(clock=clock).start()
    bot_api = await FakeTelegramBotApi(token=TELEGRAM_TOKEN).start()
    http = aiohttp.ClientSession()
    meta = {
        "enabled": True,
        "access_token": graph.access_token,
        "api_base": graph.api_base,
        "app_secret": APP_SECRET,
        "verify_token": "verify-me",
        "sources": [],
        "poll_interval": "60s",
    }
    channels = [
        WhatsAppChannel(
            WhatsAppConfig(
                enabled=True,
                verify_token="verify-me",
                app_secret=APP_SECRET,
                access_token=whatsapp_api.access_token,
                phone_number_id=WA_ACCOUNT,
                api_base=whatsapp_api.api_base,
                media_attempts=1,
            ),
            tmp_path / "data",
            http,
            clock,
        ),
        FacebookChannel(
            FacebookConfig.model_validate(meta | {"page_id": FB_PAGE}),
            tmp_path / "data",
            http,
            clock,
        ),
        InstagramChannel(
            InstagramConfig.model_validate(
                meta | {"page_id": IG_PAGE, "instagram_account_id": IG_ACCOUNT}
            ),
            tmp_path / "data",
            http,
            clock,
        ),
        TelegramChannel(
            TelegramConfig(
                enabled=True,
                bot_token=TELEGRAM_TOKEN,
                mode="webhook",
                secret_token=TELEGRAM_SECRET,
                api_base=f"http://127.0.0.1:{bot_api.port}",
            ),
            tmp_path / "data",
            clock,
        ),
    ]
    app = web.Application()
    for channel in channels:
        app.router.add_routes(channel.routes())
        await channel.start(intake)
    server = TestServer(app)
    await server.start_server()
    try:
        yield Webhooks(server, http)
    finally:
        await server.close()
        for channel in channels:
            await channel.stop()
        await http.close()
        await bot_api.stop()
        await graph.stop()
        await whatsapp_api.stop()
