"""SMS Gateway for Android: the signed webhook in, replies out through its send API."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

import aiohttp
from aiohttp import web

from channels.base import (
    IntakeSink,
    OutboundMessage,
    PlatformError,
    Routes,
    SendResult,
)
from channels.sms.config import SmsConfig
from channels.sms.parse import CHANNEL, parse_body
from channels.sms.send import MESSAGES_PATH, message_body, message_id_from
from channels.webhook import HexHmac, read_bounded, store_delivery

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/webhooks/sms"
SIGNATURE_HEADER = "X-Signature"  # hex HMAC-SHA256 of the raw body followed by the timestamp
TIMESTAMP_HEADER = "X-Timestamp"  # Unix seconds, made anew for every attempt


class SmsChannel:
    """One SMS Gateway account (a phone, or the phones of a cloud or private server account)."""

    name = CHANNEL

    def __init__(
        self, config: SmsConfig, http: aiohttp.ClientSession, clock: Callable[[], datetime]
    ) -> None:
        self.config = config
        self.account = config.account
        self.http = http
        self.clock = clock
        self._sink: IntakeSink | None = None
        self._hmac = HexHmac(config.signing_key)

    def __repr__(self) -> str:
        return f"SmsChannel(account={self.account!r}, api_base={self.config.api_base!r})"

    def routes(self) -> Routes:
        return [web.post(WEBHOOK_PATH, self.receive)]

    async def start(self, sink: IntakeSink) -> None:
        self._sink = sink

    async def stop(self) -> None:
        self._sink = None

    # --- webhook ------------------------------------------------------------------------------

    async def receive(self, request: web.Request) -> web.Response:
        """One delivery: answered 200 only once everything in it is committed."""
        body = await read_bounded(request, self.config.max_body_bytes)
        if body is None:
            log.warning("sms webhook body over %d bytes refused", self.config.max_body_bytes)
            return web.Response(status=413, text="body too large")
        refusal = self._refusal(body, request.headers)
        if refusal is not None:
            # The phone retries such deliveries; a changed signing key repeats this loudly.
            log.warning("sms webhook from %s refused: %s", request.remote, refusal)
            return web.Response(status=401, text=refusal)
        items = parse_body(body, account=self.account, received_at=self.clock())
        answer, _ = await store_delivery(self._sink, items, CHANNEL, log)
        return answer

    def _refusal(self, body: bytes, headers: Mapping[str, str]) -> str | None:
        """Why a delivery is not believed, or None. Signed first, so a forger learns nothing of
        our clock; then fresh, so a recorded delivery cannot be played again later."""
        stamp = headers.get(TIMESTAMP_HEADER)
        signature = headers.get(SIGNATURE_HEADER)
        if not stamp or not self._hmac.valid(signature, body, stamp.encode("utf-8", "replace")):
            return "bad signature"
        try:
            sent = datetime.fromtimestamp(int(stamp.strip()), UTC)
        except (ValueError, OverflowError, OSError):
            return "bad timestamp"
        if abs(self.clock() - sent) > self.config.max_clock_skew:
            return "stale timestamp"
        return None

    # --- sending ------------------------------------------------------------------------------

    async def send(self, message: OutboundMessage) -> SendResult:
        body = message_body(message, self.config.device_id)
        url = self.config.api_base.rstrip("/") + MESSAGES_PATH
        password = self.config.password.get_secret_value()
        headers = {"Authorization": aiohttp.encode_basic_auth(self.config.username, password)}
        timeout = aiohttp.ClientTimeout(total=self.config.request_timeout.total_seconds())
        try:
            async with self.http.post(url, json=body, headers=headers, timeout=timeout) as resp:
                text = await resp.text()
                status = resp.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise PlatformError(f"SMS Gateway unreachable: {exc!r}", retryable=True) from exc
        return SendResult(platform_message_id=message_id_from(status, text, body["id"]))
