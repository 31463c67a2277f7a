"""Fetching photos attached to tweets and DMs in the background: URL -> bytes on disk -> intake."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import mimetypes
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import aiohttp

from channels.base import (
    Attachment,
    Inbound,
    InboundMessage,
    IntakeSink,
    IntakeUnavailable,
    MediaResult,
)
from channels.x_parse import CHANNEL

log = logging.getLogger(__name__)

NOT_FETCHED = "only photos are downloaded from X; see the post on X"
_CHUNK = 64 * 1024


class XMediaFetcher:
    """Owns the download tasks of the X channel; `close()` cancels and awaits them."""

    def __init__(
        self, data_dir: Path, http: aiohttp.ClientSession, *, max_bytes: int, timeout: float,
        attempts: int = 3, retry_delay: float = 2.0,
    ) -> None:
        self.data_dir = data_dir
        self.http = http
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.attempts = max(attempts, 1)
        self.retry_delay = retry_delay
        self._tasks: set[asyncio.Task[None]] = set()

    def schedule(self, sink: IntakeSink, items: Sequence[Inbound]) -> None:
        for item in items:
            if not isinstance(item, InboundMessage):
                continue
            for attachment in item.attachments:
                if not attachment.media_ref:
                    continue
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
        ref = str(attachment.media_ref)
        if not ref.startswith(("https://", "http://")):
            await self._record(sink, MediaResult(CHANNEL, message_id, ref, error=NOT_FETCHED))
            return
        error = "no attempt made"
        for attempt in range(self.attempts):
            if attempt:
                await asyncio.sleep(self.retry_delay * 2 ** (attempt - 1))
            try:
                result = await self._download(message_id, ref)
            except _Failed as exc:
                error = str(exc)
                if not exc.retryable:
                    break
                continue
            await self._record(sink, result)
            return
        log.warning("x media not fetched: external_id=%s url=%s: %s", message_id, ref, error)
        await self._record(sink, MediaResult(CHANNEL, message_id, ref, error=error))

    async def _record(self, sink: IntakeSink, result: MediaResult) -> None:
        for attempt in range(self.attempts):
            try:
                await sink.record_media(result)
                return
            except IntakeUnavailable as exc:
                log.warning(
                    "x media result not recorded (try %d): external_id=%s: %s",
                    attempt + 1, result.message_external_id, exc,
                )
                await asyncio.sleep(self.retry_delay * 2**attempt)

    async def _download(self, message_id: str, url: str) -> MediaResult:
        target_dir = self.data_dir / "media" / CHANNEL
        await asyncio.to_thread(target_dir.mkdir, parents=True, exist_ok=True)
        sha, size, chunks = hashlib.sha256(), 0, []
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        try:
            async with self.http.get(url, timeout=timeout) as resp:
                if resp.status != 200:
                    retryable = resp.status == 429 or resp.status >= 500
                    raise _Failed(f"download HTTP {resp.status}", retryable=retryable)
                mime_type = resp.content_type or None
                async for chunk in resp.content.iter_chunked(_CHUNK):
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise _Failed(f"larger than {self.max_bytes} bytes", retryable=False)
                    sha.update(chunk)
                    chunks.append(chunk)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise _Failed(f"download failed: {exc!r}", retryable=True) from exc
        digest = sha.hexdigest()
        suffix = mimetypes.guess_extension(mime_type or "") or Path(url).suffix[:6] or ".bin"
        final = target_dir / digest[:2] / f"{digest}{suffix}"
        await asyncio.to_thread(_write_durably, final, b"".join(chunks))
        return MediaResult(
            channel=CHANNEL,
            message_external_id=message_id,
            media_ref=url,
            stored_path=final.relative_to(self.data_dir).as_posix(),
            sha256=digest,
            size=size,
            mime_type=mime_type,
        )


class _Failed(Exception):
    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


def _write_durably(final: Path, data: bytes) -> None:
    """Write under a temporary name and rename, so a crash leaves no half file by its name."""
    final.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=final.parent, prefix=".part-", delete=False) as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(handle.name, final)
