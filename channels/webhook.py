"""Edge plumbing every webhook shares: the bounded body read, hex HMAC-SHA256 checks (Meta's
`sha256=` header; SMS Gateway's body + timestamp), Meta's subscription handshake (WhatsApp,
Facebook, Instagram; Telegram reads bodies too), the record of a signed body that is no event
at all, and the log line for what was kept unread."""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Sequence

from aiohttp import web
from pydantic import SecretStr

from channels.base import (
    Inbound,
    InboundMessage,
    IntakeResult,
    IntakeSink,
    IntakeUnavailable,
    UnsupportedEvent,
)

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Hub-Signature-256"
_PREFIX = "sha256="
_READ_CHUNK = 64 * 1024


async def read_bounded(request: web.Request, limit: int) -> bytes | None:
    """The body, or None as soon as it is known to exceed `limit` bytes."""
    length = request.content_length  # parsed from the header at each access
    if length is not None:
        if length > limit:
            return None
        return await request.read()  # the length is known and within the limit
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(_READ_CHUNK):
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


class HexHmac:
    """Checks a hex HMAC-SHA256 under one key, of parts given in order. Keyed once: each check
    copies the keyed state (what HMAC.copy() is for). Without a key nothing is ever valid."""

    def __init__(self, secret: SecretStr | str) -> None:
        plain = secret.get_secret_value() if isinstance(secret, SecretStr) else secret
        key = plain.encode()
        self._keyed = hmac.new(key, digestmod=hashlib.sha256) if key else None

    def valid(self, given: str | None, *parts: bytes) -> bool:
        if self._keyed is None or not given:
            return False
        mac = self._keyed.copy()
        for part in parts:
            mac.update(part)
        # As bytes: compare_digest refuses a str with non-ASCII, which a forger may send.
        sent = given.strip().lower().encode("utf-8", "replace")
        return hmac.compare_digest(sent, mac.hexdigest().encode())


class Signature:
    """`sha256=<hex HMAC-SHA256(secret, raw body)>`, as Meta signs every webhook delivery."""

    def __init__(self, secret: SecretStr | str) -> None:
        self._hmac = HexHmac(secret)

    def valid(self, body: bytes, header: str | None) -> bool:
        if not header or not header.startswith(_PREFIX):
            return False
        return self._hmac.valid(header.removeprefix(_PREFIX), body)


def subscription_handshake(
    request: web.Request, verify_token: SecretStr, channel: str
) -> web.Response:
    """Meta's subscription handshake: echo hub.challenge when the verify token matches."""
    query = request.query
    expected = verify_token.get_secret_value().encode()
    given = query.get("hub.verify_token", "").encode()
    if (
        query.get("hub.mode") == "subscribe"
        and expected
        and hmac.compare_digest(given, expected)
        and "hub.challenge" in query
    ):
        return web.Response(text=query["hub.challenge"], content_type="text/plain")
    log.warning("%s webhook verification refused (mode=%r)", channel, query.get("hub.mode"))
    return web.Response(status=403, text="verification failed")


def unreadable_body(
    channel: str, account: str, body: bytes, kind: str, reason: str
) -> UnsupportedEvent:
    """A signed body that is no event of the platform at all: kept as text, named by its hash,
    so the platform's retries of it are stored once."""
    return UnsupportedEvent(
        channel=channel,
        account=account,
        external_id="body:" + hashlib.sha256(body).hexdigest(),
        kind=kind,
        reason=reason,
        raw={"body": body.decode("utf-8", errors="replace")},
    )


def log_unreadable(logger: logging.Logger, channel: str, items: Sequence[Inbound]) -> None:
    """One line per item kept without being fully understood; its payload is stored."""
    for item in items:
        if isinstance(item, UnsupportedEvent):
            reason = item.reason
        elif isinstance(item, InboundMessage) and item.parse_error:
            reason = item.parse_error
        else:
            continue
        logger.info(
            "%s: kept as sent, not fully read: account=%s external_id=%s: %s",
            channel,
            item.account,
            item.external_id,
            reason,
        )


async def store_delivery(
    sink: IntakeSink | None, items: Sequence[Inbound], channel: str, logger: logging.Logger
) -> tuple[web.Response, IntakeResult | None]:
    """Hand a webhook's items to the intake and the answer for the platform: 200 only once they
    are committed, 503 (the platform delivers again) while the intake cannot take them."""
    if sink is None:
        return web.Response(status=503, text="not started"), None
    try:
        result = await sink.submit(items)
    except IntakeUnavailable as exc:
        logger.warning("%s webhook not stored, intake unavailable: %s", channel, exc)
        return web.Response(status=503, text="intake unavailable"), None
    if result.stored:
        log_unreadable(logger, channel, items)
    return web.Response(text="ok"), result
