"""Files to a reporter on Telegram: a photo by sendPhoto, anything else by sendDocument, both
uploaded as multipart through python-telegram-bot."""

from __future__ import annotations

import asyncio
from typing import Any

from telegram import Bot, InputFile, Message, ReplyParameters

from channels.base import OutboundFile, PlatformError

# sendPhoto takes JPEG, PNG and WebP pictures up to 10 MB; bigger or other files are documents.
PHOTO_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})
PHOTO_MAX_BYTES = 10 * 1024 * 1024


async def send_file(
    bot: Bot, chat_id: str, file: OutboundFile, reply: ReplyParameters | None
) -> Message:
    try:
        data = await asyncio.to_thread(file.path.read_bytes)
    except OSError as exc:  # the stored file is gone: no retry brings it back
        raise PlatformError(
            f"file {file.file_name} unreadable: {exc}", retryable=False, code="file_missing"
        ) from exc
    upload = InputFile(data, filename=file.file_name)
    common: dict[str, Any] = {"reply_parameters": reply}
    if file.mime_type in PHOTO_TYPES and file.size <= PHOTO_MAX_BYTES:
        return await bot.send_photo(chat_id, upload, **common)
    return await bot.send_document(chat_id, upload, **common)
