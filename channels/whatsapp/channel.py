"""WhatsApp Cloud API: webhook in, replies out."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import aiohttp
from aiohttp import web

from channels.base import (
    FileCarriage,
    IntakeSink,
    OutboundMessage,
    PlatformError,
    Routes,
    SendResult,
)
from channels.media_fetch import MediaFetcher
from channels.webhook import (
    SIGNATURE_HEADER,
    Signature,
    read_bounded,
    store_delivery,
    subscription_handshake,
)
from channels.whatsapp.config import WhatsAppConfig
from channels.whatsapp.media import WhatsAppDownload
from channels.whatsapp.media_send import check_window, file_payload, upload
from channels.whatsapp.messages import CHANNEL
from channels.whatsapp.parse import parse_body
from channels.whatsapp.send import message_id_from, message_payload, retry_after_seconds

log = logging.getLogger(__name__)
MEDIA_RESUME = timedelta(days=7)

WEBHOOK_PATH = "/webhooks/whatsapp"


class WhatsAppChannel:
    """One WhatsApp business number: the webhook receiver, media fetching and sending."""

    name = CHANNEL
    file_carriage = FileCarriage.EACH

    def __init__(
        self,
        config: WhatsAppConfig,
        data_dir: Path,
        http: aiohttp.ClientSession,
        clock: Callable[[], datetime],
    ) -> None:
        self.config = config
        self.account = config.phone_number_id
        self.data_dir = data_dir
        self.http = http
        self.clock = clock
        self._sink: IntakeSink | None = None
        self._signature = Signature(config.app_secret)
        self._resuming: asyncio.Task[None] | None = None
        download = WhatsAppDownload(
            config.api_base,
            config.access_token,
            http,
            timeout=config.request_timeout.total_seconds(),
        )
        self.media = MediaFetcher(
            CHANNEL,
            self.account,
            download,
            data_dir,
            max_bytes=config.max_media_bytes,
            attempts=config.media_attempts,
            retry_delay=config.media_retry_delay.total_seconds(),
            concurrency=config.media_concurrency,
        )

    def __repr__(self) -> str:
        return f"WhatsAppChannel(account={self.account!r}, api_base={self.config.api_base!r})"

    def routes(self) -> Routes:
        return [web.get(WEBHOOK_PATH, self.verify), web.post(WEBHOOK_PATH, self.receive)]

    async def start(self, sink: IntakeSink) -> None:
        self._sink = sink
        # Meta keeps media ids for 30 days, but a week-old photo is worth a try and an older
        # one is not.
        self._resuming = asyncio.create_task(
            self.media.resume_pending(sink, self.clock() - MEDIA_RESUME), name="whatsapp-resume"
        )

    async def stop(self) -> None:
        if self._resuming is not None:
            await asyncio.gather(self._resuming, return_exceptions=True)
        await self.media.close()
        self._sink = None

    # --- webhook ------------------------------------------------------------------------------

    async def verify(self, request: web.Request) -> web.Response:
        return subscription_handshake(request, self.config.verify_token, CHANNEL)

    async def receive(self, request: web.Request) -> web.Response:
        """One delivery: answered 200 only once everything in it is committed."""
        body = await read_bounded(request, self.config.max_body_bytes)
        if body is None:
            log.warning("whatsapp webhook body over %d bytes refused", self.config.max_body_bytes)
            return web.Response(status=413, text="body too large")
        if not self._signature.valid(body, request.headers.get(SIGNATURE_HEADER)):
            # Meta retries such deliveries; if the app secret was rotated this repeats loudly.
            log.warning(
                "whatsapp webhook with a missing or wrong signature from %s", request.remote
            )
            return web.Response(status=401, text="bad signature")
        items = parse_body(body, account=self.account, received_at=self.clock())
        answer, result = await store_delivery(self._sink, items, CHANNEL, log)
        if result is not None and result.stored and self._sink is not None:
            self.media.schedule(self._sink, items)
        return answer

    # --- sending ------------------------------------------------------------------------------

    async def send(self, message: OutboundMessage) -> SendResult:
        """The text, or one file (the outbox sends a message's files one by one after it)."""
        phone_number_id = message.account or self.account
        base = f"{self.config.api_base.rstrip('/')}/{phone_number_id}"
        headers = {"Authorization": f"Bearer {self.config.access_token.get_secret_value()}"}
        timeout = aiohttp.ClientTimeout(total=self.config.request_timeout.total_seconds())
        if message.files:
            check_window(message, self.clock())
            [file] = message.files
            media_id = await upload(self.http, f"{base}/media", headers, file, timeout)
            payload = file_payload(message, file, media_id)
        else:
            payload = message_payload(
                message,
                self.clock(),
                template_name=self.config.template_name,
                template_language=self.config.template_language,
            )
        url = f"{base}/messages"
        try:
            async with self.http.post(url, json=payload, headers=headers, timeout=timeout) as resp:
                body = await resp.text()
                retry_after = retry_after_seconds(resp.headers.get("Retry-After"))
                status = resp.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise PlatformError(f"WhatsApp unreachable: {exc!r}", retryable=True) from exc
        wamid = message_id_from(status, body, retry_after=retry_after)
        return SendResult(platform_message_id=wamid)
