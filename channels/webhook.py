"""Edge plumbing every webhook shares: the bounded body read, the `sha256=` HMAC signature check
and Meta's subscription handshake (WhatsApp, Facebook, Instagram; Telegram reads bodies too)."""

from __future__ import annotations

import hashlib
import hmac
import logging

from aiohttp import web
from pydantic import SecretStr

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


class Signature:
    """`sha256=<hex HMAC-SHA256(secret, raw body)>`, as Meta signs every webhook delivery.
    Keyed once: each check copies the keyed state (what HMAC.copy() is for). Without a secret
    nothing is ever signed."""

    def __init__(self, secret: SecretStr | str) -> None:
        plain = secret.get_secret_value() if isinstance(secret, SecretStr) else secret
        key = plain.encode()
        self._keyed = hmac.new(key, digestmod=hashlib.sha256) if key else None

    def valid(self, body: bytes, header: str | None) -> bool:
        if self._keyed is None or not header or not header.startswith(_PREFIX):
            return False
        mac = self._keyed.copy()
        mac.update(body)
        # As bytes: compare_digest refuses a str with non-ASCII, which a forger may send.
        given = header.removeprefix(_PREFIX).strip().lower().encode("utf-8", "replace")
        return hmac.compare_digest(given, mac.hexdigest().encode())


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
