"""Attachments of Instagram and Facebook reports fetched in the background from their CDN URLs."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import mimetypes
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import IO

import aiohttp

from channels.base import (
    Attachment,
    Inbound,
    InboundMessage,
    IntakeSink,
    IntakeUnavailable,
    MediaResult,
    PendingMedia,
)

log = logging.getLogger(__name__)
_CHUNK = 64 * 1024


class MediaDownloads:
    """Owns one channel's download tasks; `close()` cancels them, `wait_idle()` awaits them.

    CDN URLs are signed and expire within days, so each is fetched once, right after its
    message is committed. No token is sent: the URL itself is the permission.
    """

    def __init__(
        self,
        channel: str,
        data_dir: Path,
        http: aiohttp.ClientSession,
        *,
        max_bytes: int,
        timeout: float,
        attempts: int = 3,
        retry_delay: float = 5.0,
    ) -> None:
        self.channel = channel
        self.data_dir = data_dir
        self.http = http
        self.max_bytes = max_bytes
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.attempts = max(attempts, 1)
        self.retry_delay = retry_delay
        self._tasks: set[asyncio.Task[None]] = set()
        self._running: set[tuple[str, str]] = set()
        self._slots = asyncio.Semaphore(4)

    def schedule(self, sink: IntakeSink, items: Sequence[Inbound]) -> None:
        for item in items:
            if isinstance(item, InboundMessage):
                for attachment in item.attachments:
                    self._start(sink, item.external_id, attachment)

    def resume(self, sink: IntakeSink, pending: Sequence[PendingMedia]) -> None:
        """Fetch again what a stopped process left pending."""
        for item in pending:
            self._start(sink, item.message_external_id, item.attachment)

    def _start(self, sink: IntakeSink, message_id: str, attachment: Attachment) -> None:
        key = (message_id, attachment.media_ref or "")
        if not attachment.media_ref or key in self._running:
            return
        self._running.add(key)
        task = asyncio.create_task(self._fetch(sink, message_id, attachment))
        self._tasks.add(task)
        task.add_done_callback(lambda done: (self._tasks.discard(done), self._running.discard(key)))

    async def wait_idle(self) -> None:
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    async def close(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _fetch(self, sink: IntakeSink, message_id: str, attachment: Attachment) -> None:
        ref = str(attachment.media_ref)
        error = "no attempt made"
        for attempt in range(self.attempts):
            if attempt:
                await asyncio.sleep(self.retry_delay * 2 ** (attempt - 1))
            try:
                async with self._slots:
                    result = await self._download(message_id, attachment)
            except _Failed as exc:
                error = str(exc)
                if not exc.retryable:
                    break
                continue
            await self._record(sink, result)
            return
        log.warning("%s media not fetched: external_id=%s: %s", self.channel, message_id, error)
        await self._record(sink, MediaResult(self.channel, message_id, ref, error=error))

    async def _record(self, sink: IntakeSink, result: MediaResult) -> None:
        for attempt in range(self.attempts):
            try:
                await sink.record_media(result)
                return
            except IntakeUnavailable as exc:
                log.warning(
                    "%s media result not recorded (try %d): external_id=%s: %s",
                    self.channel,
                    attempt + 1,
                    result.message_external_id,
                    exc,
                )
                await asyncio.sleep(self.retry_delay * 2**attempt)

    async def _download(self, message_id: str, attachment: Attachment) -> MediaResult:
        target = self.data_dir / "media" / self.channel
        await asyncio.to_thread(target.mkdir, parents=True, exist_ok=True)
        handle = await asyncio.to_thread(_temp_file, target)
        try:
            sha, size, mime = hashlib.sha256(), 0, attachment.mime_type
            try:
                async with self.http.get(str(attachment.media_ref), timeout=self.timeout) as resp:
                    if resp.status != 200:
                        retryable = resp.status == 429 or resp.status >= 500
                        raise _Failed(f"download HTTP {resp.status}", retryable=retryable)
                    mime = mime or resp.headers.get("Content-Type")
                    async for chunk in resp.content.iter_chunked(_CHUNK):
                        size += len(chunk)
                        if size > self.max_bytes:
                            raise _Failed(f"larger than {self.max_bytes} bytes", retryable=False)
                        sha.update(chunk)
                        await asyncio.to_thread(handle.write, chunk)
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise _Failed(f"download failed: {exc!r}", retryable=True) from exc
            digest = sha.hexdigest()
            suffix = mimetypes.guess_extension((mime or "").split(";")[0].strip()) or ".bin"
            final = target / digest[:2] / (digest + suffix)
            await asyncio.to_thread(_move, handle, final)
        finally:
            await asyncio.to_thread(_discard, handle)
        return MediaResult(
            channel=self.channel,
            message_external_id=message_id,
            media_ref=str(attachment.media_ref),
            stored_path=final.relative_to(self.data_dir).as_posix(),
            sha256=digest,
            size=size,
            mime_type=mime,
        )


class _Failed(Exception):
    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


def _temp_file(directory: Path) -> IO[bytes]:
    return tempfile.NamedTemporaryFile(dir=directory, prefix=".part-", delete=False)


def _move(handle: IO[bytes], final: Path) -> None:
    handle.flush()
    os.fsync(handle.fileno())
    handle.close()
    final.parent.mkdir(parents=True, exist_ok=True)
    os.replace(handle.name, final)


def _discard(handle: IO[bytes]) -> None:
    handle.close()
    try:
        os.unlink(handle.name)
    except FileNotFoundError:
        pass
