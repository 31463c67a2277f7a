"""Files to a reporter on WhatsApp: uploaded with POST /{phone_number_id}/media, then sent as
an image or document message naming the returned media id (Cloud API, media reference)."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import Any

import aiohttp

from channels.base import OutboundFile, OutboundMessage, PlatformError
from channels.whatsapp.send import (
    OUTSIDE_WINDOW_CODE,
    error_from,
    retry_after_seconds,
    within_window,
)

# Cloud API image messages take JPEG and PNG up to 5 MB; anything else goes as a document.
IMAGE_TYPES = frozenset({"image/jpeg", "image/png"})
IMAGE_MAX_BYTES = 5 * 1024 * 1024


def media_type(file: OutboundFile) -> str:
    """ "image" or "document", as the message's type."""
    if file.mime_type in IMAGE_TYPES and file.size <= IMAGE_MAX_BYTES:
        return "image"
    return "document"


def file_payload(message: OutboundMessage, file: OutboundFile, media_id: str) -> dict[str, Any]:
    """The /messages body for one uploaded file."""
    kind = media_type(file)
    body: dict[str, Any] = {"id": media_id}
    if kind == "document":
        body["filename"] = file.file_name
    recipient_key = "to" if message.recipient_id.isdigit() else "recipient"
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        recipient_key: message.recipient_id,
        "type": kind,
        kind: body,
        "biz_opaque_callback_data": message.idempotency_key[:512],
    }


def check_window(message: OutboundMessage, now: datetime) -> None:
    """Free-form media go only inside the 24-hour window (a template cannot carry them here)."""
    if not within_window(message.last_inbound_at, now):
        raise PlatformError(
            "a file can be sent only within 24 hours of the reporter's last message",
            retryable=False,
            code=OUTSIDE_WINDOW_CODE,
        )


async def upload(
    http: aiohttp.ClientSession,
    url: str,
    headers: dict[str, str],
    file: OutboundFile,
    limit: aiohttp.ClientTimeout,
) -> str:
    """The media id Graph gives the uploaded file."""
    try:
        data = await asyncio.to_thread(file.path.read_bytes)
    except OSError as exc:  # the stored file is gone: no retry brings it back
        raise PlatformError(
            f"file {file.file_name} unreadable: {exc}", retryable=False, code="file_missing"
        ) from exc
    form = aiohttp.FormData()
    form.add_field("messaging_product", "whatsapp")
    form.add_field("type", file.mime_type)
    form.add_field("file", data, filename=file.file_name, content_type=file.mime_type)
    try:
        async with http.post(url, data=form, headers=headers, timeout=limit) as resp:
            body = await resp.text()
            status = resp.status
            retry_after = retry_after_seconds(resp.headers.get("Retry-After"))
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise PlatformError(f"WhatsApp unreachable: {exc!r}", retryable=True) from exc
    try:
        answer = json.loads(body)
    except ValueError:
        answer = None
    if status == 200 and isinstance(answer, dict) and answer.get("id"):
        return str(answer["id"])
    raise error_from(status, answer, body, retry_after=retry_after)
