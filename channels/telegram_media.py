"""Fetching Telegram files in the background: file_id -> getFile -> bytes on disk -> intake."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import mimetypes
import os
import tempfile
import warnings
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from telegram import Bot
from telegram.error import NetworkError, RetryAfter, TelegramError
from telegram.warnings import PTBDeprecationWarning

from channels.base import (
    Attachment,
    Inbound,
    InboundMessage,
    IntakeSink,
    IntakeUnavailable,
    MediaResult,
)
from channels.telegram_parse import CHANNEL

log = logging.getLogger(__name__)


class TelegramMediaFetcher:
    """Owns the download tasks of the Telegram channel; `close()` cancels and awaits them."""

    def __init__(
        self, bot: Callable[[], Awaitable[Bot]], data_dir: Path, *, max_bytes: int,
        attempts: int = 3, retry_delay: float = 2.0,
    ) -> None:
        self._bot = bot
        self.data_dir = data_dir
        self.max_bytes = max_bytes
        self.attempts = max(attempts, 1)
        self.retry_delay = retry_delay
        self._tasks: set[asyncio.Task[None]] = set()

    def schedule(self, sink: IntakeSink, items: Sequence[Inbound]) -> None:
        for item in items:
            if not isinstance(item, InboundMessage):
                continue
            for attachment in item.attachments:
                if attachment.media_ref:
                    task = asyncio.create_task(self._fetch(sink, item.external_id, attachment))
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)

    async def wait_idle(self) -> None:
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    async def close(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _fetch(self, sink: IntakeSink, message_id: str, attachment: Attachment) -> None:
        file_id = str(attachment.media_ref)
        if attachment.size and attachment.size > self.max_bytes:
            error = f"file of {attachment.size} bytes is over {self.max_bytes}"
            await self._record(sink, MediaResult(CHANNEL, message_id, file_id, error=error))
            return
        error = "no attempt made"
        for attempt in range(self.attempts):
            if attempt:
                await asyncio.sleep(self.retry_delay * 2 ** (attempt - 1))
            try:
                result = await self._download(message_id, attachment)
            except RetryAfter as exc:
                error = str(exc)
                await asyncio.sleep(retry_seconds(exc))
                continue
            except NetworkError as exc:  # includes TimedOut and 5xx answers
                error = f"{type(exc).__name__}: {exc}"
                continue
            except TelegramError as exc:  # a file id Telegram no longer knows, ...
                error = f"{type(exc).__name__}: {exc}"
                break
            await self._record(sink, result)
            return
        log.warning("telegram media not fetched: external_id=%s: %s", message_id, error)
        await self._record(sink, MediaResult(CHANNEL, message_id, file_id, error=error))

    async def _record(self, sink: IntakeSink, result: MediaResult) -> None:
        for attempt in range(self.attempts):
            try:
                await sink.record_media(result)
                return
            except IntakeUnavailable as exc:
                log.warning(
                    "telegram media result not recorded (try %d): external_id=%s: %s",
                    attempt + 1, result.message_external_id, exc,
                )
                await asyncio.sleep(self.retry_delay * 2**attempt)

    async def _download(self, message_id: str, attachment: Attachment) -> MediaResult:
        bot = await self._bot()
        file = await bot.get_file(str(attachment.media_ref))
        if file.file_size and file.file_size > self.max_bytes:
            raise TelegramError(f"file of {file.file_size} bytes is over {self.max_bytes}")
        data = bytes(await file.download_as_bytearray())
        digest = hashlib.sha256(data).hexdigest()
        suffix = _suffix(attachment, file.file_path)
        final = self.data_dir / "media" / CHANNEL / digest[:2] / f"{digest}{suffix}"
        await asyncio.to_thread(_write_durably, final, data)
        return MediaResult(
            channel=CHANNEL,
            message_external_id=message_id,
            media_ref=str(attachment.media_ref),
            stored_path=final.relative_to(self.data_dir).as_posix(),
            sha256=digest,
            size=len(data),
            mime_type=attachment.mime_type or mimetypes.guess_type(file.file_path or "")[0],
        )


def _suffix(attachment: Attachment, file_path: str | None) -> str:
    for name in (attachment.file_name, file_path):
        suffix = Path(name or "").suffix.lower()
        if 1 < len(suffix) <= 8 and suffix[1:].isalnum():
            return suffix
    return mimetypes.guess_extension(attachment.mime_type or "") or ".bin"


def retry_seconds(exc: RetryAfter) -> float:
    """RetryAfter.retry_after in seconds, an int now and a timedelta in PTB's next major."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value: object = exc.retry_after
    total = getattr(value, "total_seconds", None)
    return float(total()) if callable(total) else float(value)  # type: ignore[arg-type]


def _write_durably(final: Path, data: bytes) -> None:
    """Write under a temporary name and rename, so a crash leaves no half file by its name."""
    final.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=final.parent, prefix=".part-", delete=False) as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(handle.name, final)
