"""Fetching WhatsApp media in the background: media id -> URL -> bytes on disk -> intake."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import mimetypes
import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import aiohttp
from pydantic import SecretStr

from channels.base import (
    Attachment,
    Inbound,
    InboundMessage,
    IntakeSink,
    IntakeUnavailable,
    MediaResult,
    PendingMedia,
)
from channels.whatsapp_messages import CHANNEL, media_sha256_hex

log = logging.getLogger(__name__)

_CHUNK = 64 * 1024
_SAFE_SUFFIX = re.compile(r"^\.[A-Za-z0-9]{1,10}$")


class MediaError(Exception):
    """One download attempt failed; `retryable` says whether another attempt may help."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True, slots=True)
class MediaSettings:
    api_base: str
    access_token: SecretStr
    attempts: int
    retry_delay: float  # seconds before the second attempt; doubled each time after
    max_bytes: int
    timeout: float
    concurrency: int = 4  # downloads at once, so a burst of photos does not flood Graph


class MediaFetcher:
    """Owns the download tasks of one channel; `close()` cancels and awaits them all."""

    def __init__(self, settings: MediaSettings, data_dir: Path, http: aiohttp.ClientSession):
        self.settings = settings
        self.data_dir = data_dir
        self.http = http
        self._tasks: set[asyncio.Task[None]] = set()
        self._running: set[tuple[str, str]] = set()
        self._slots = asyncio.Semaphore(max(settings.concurrency, 1))

    def __repr__(self) -> str:
        return f"MediaFetcher(api_base={self.settings.api_base!r}, tasks={len(self._tasks)})"

    @property
    def pending(self) -> int:
        return len(self._tasks)

    def schedule(self, sink: IntakeSink, items: Sequence[Inbound]) -> None:
        """Start one task per attachment with a media id; returns at once."""
        for item in items:
            if not isinstance(item, InboundMessage):
                continue
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
        task = asyncio.create_task(
            self._fetch(sink, message_id, attachment),
            name=f"whatsapp-media-{attachment.media_ref}",
        )
        self._tasks.add(task)
        task.add_done_callback(lambda t, key=key: self._forget(t, key))

    async def wait_idle(self) -> None:
        """Return once every scheduled download has finished (tests, graceful shutdown)."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    async def close(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _forget(self, task: asyncio.Task[None], key: tuple[str, str]) -> None:
        self._tasks.discard(task)
        self._running.discard(key)

    async def _fetch(self, sink: IntakeSink, message_id: str, attachment: Attachment) -> None:
        settings = self.settings
        error = "no attempt made"
        for attempt in range(max(settings.attempts, 1)):
            if attempt:
                await asyncio.sleep(settings.retry_delay * 2 ** (attempt - 1))
            try:
                async with self._slots:
                    result = await self._download(message_id, attachment)
            except MediaError as exc:
                error = str(exc)
                log.info(
                    "whatsapp media attempt %d failed: external_id=%s media=%s: %s",
                    attempt + 1,
                    message_id,
                    attachment.media_ref,
                    error,
                )
                if not exc.retryable:
                    break
                continue
            await self._record(sink, result)
            return
        log.warning(
            "whatsapp media not fetched: external_id=%s media=%s: %s",
            message_id,
            attachment.media_ref,
            error,
        )
        failed = MediaResult(CHANNEL, message_id, attachment.media_ref or "", error=error)
        await self._record(sink, failed)

    async def _record(self, sink: IntakeSink, result: MediaResult) -> None:
        """Hand the result to intake, waiting out a short database outage."""
        for attempt in range(max(self.settings.attempts, 1)):
            try:
                await sink.record_media(result)
                return
            except IntakeUnavailable as exc:
                log.warning(
                    "whatsapp media result not recorded (try %d): external_id=%s media=%s: %s",
                    attempt + 1,
                    result.message_external_id,
                    result.media_ref,
                    exc,
                )
                await asyncio.sleep(self.settings.retry_delay * 2**attempt)

    async def _download(self, message_id: str, attachment: Attachment) -> MediaResult:
        info = await self._lookup(str(attachment.media_ref))
        url = info.get("url")
        if not isinstance(url, str) or not url:
            raise MediaError("media lookup answered without a url", retryable=True)
        mime_type = info.get("mime_type") or attachment.mime_type
        announced_size = str(info.get("file_size") or "")  # Graph sends it as a string
        if announced_size.isdigit() and int(announced_size) > self.settings.max_bytes:
            limit = self.settings.max_bytes
            raise MediaError(f"media of {announced_size} bytes is over {limit}", retryable=False)
        target_dir = self.data_dir / "media" / CHANNEL
        await asyncio.to_thread(target_dir.mkdir, parents=True, exist_ok=True)
        handle = await asyncio.to_thread(_temp_file, target_dir)
        try:
            digest, size = await self._stream(url, handle)
            for announced in (media_sha256_hex(info.get("sha256")), attachment.sha256):
                if announced and announced != digest:
                    raise MediaError(
                        f"sha256 mismatch: announced {announced}, received {digest}",
                        retryable=True,
                    )
            final = target_dir / digest[:2] / (digest + _suffix(mime_type, attachment.file_name))
            await asyncio.to_thread(_move, handle, final)
        finally:
            await asyncio.to_thread(_discard, handle)
        return MediaResult(
            channel=CHANNEL,
            message_external_id=message_id,
            media_ref=str(attachment.media_ref),
            stored_path=final.relative_to(self.data_dir).as_posix(),
            sha256=digest,
            size=size,
            mime_type=mime_type,
        )

    async def _lookup(self, media_id: str) -> dict[str, Any]:
        url = f"{self.settings.api_base.rstrip('/')}/{media_id}"
        try:
            async with self.http.get(url, headers=self._auth(), timeout=self._timeout()) as resp:
                if resp.status != 200:
                    raise _http_error("media lookup", resp.status, await resp.text())
                info = await resp.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise MediaError(f"media lookup failed: {exc!r}", retryable=True) from exc
        if not isinstance(info, dict):
            raise MediaError("media lookup answered no JSON object", retryable=True)
        return info

    async def _stream(self, url: str, handle: IO[bytes]) -> tuple[str, int]:
        sha = hashlib.sha256()
        size = 0
        try:
            async with self.http.get(url, headers=self._auth(), timeout=self._timeout()) as resp:
                if resp.status != 200:
                    raise _http_error("media download", resp.status, await resp.text())
                async for chunk in resp.content.iter_chunked(_CHUNK):
                    size += len(chunk)
                    if size > self.settings.max_bytes:
                        limit = self.settings.max_bytes
                        raise MediaError(f"media larger than {limit} bytes", retryable=False)
                    sha.update(chunk)
                    await asyncio.to_thread(handle.write, chunk)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise MediaError(f"media download failed: {exc!r}", retryable=True) from exc
        return sha.hexdigest(), size

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.settings.access_token.get_secret_value()}"}

    def _timeout(self) -> aiohttp.ClientTimeout:
        return aiohttp.ClientTimeout(total=self.settings.timeout)


def _http_error(step: str, status: int, body: str) -> MediaError:
    # Graph blocks a number's media lookups after repeated failed requests: only retry what
    # can heal by itself (rate limits, server trouble), not a 4xx such as an expired media id.
    retryable = status == 429 or status >= 500
    return MediaError(f"{step} HTTP {status}: {body[:300]}", retryable=retryable)


def _suffix(mime_type: str | None, file_name: str | None) -> str:
    if file_name:
        suffix = Path(file_name).suffix
        if _SAFE_SUFFIX.match(suffix):
            return suffix.lower()
    guessed = mimetypes.guess_extension((mime_type or "").split(";")[0].strip())
    return guessed or ".bin"


def _temp_file(directory: Path) -> IO[bytes]:
    return tempfile.NamedTemporaryFile(dir=directory, prefix=".part-", delete=False)


def _move(handle: IO[bytes], final: Path) -> None:
    """Make the file durable under its content name; a crash leaves only a .part file."""
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
