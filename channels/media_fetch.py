"""The background media downloader every channel shares: tasks, retries, recording, storage."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import mimetypes
import os
import re
import tempfile
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO

import aiohttp
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from channels.base import (
    Attachment,
    Inbound,
    InboundMessage,
    IntakeSink,
    IntakeUnavailable,
    MediaResult,
    PendingMedia,
    PlatformError,
)
from channels.polling import Backoff, platform_retry_after

log = logging.getLogger(__name__)

_CHUNK = 64 * 1024
_SAFE_SUFFIX = re.compile(r"^\.[A-Za-z0-9]{1,10}$")


class NotFetched(PlatformError):
    """An attachment deliberately not downloaded (a kind we skip, too large as announced):
    recorded as failed at once, without retries and without a warning."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=False)


@dataclass(frozen=True, slots=True)
class StoredMedia:
    """Bytes placed in the store under their digest; the path is relative to the data directory."""

    stored_path: str
    sha256: str
    size: int
    mime_type: str | None


# A platform's one step: look an attachment up and download it into the store, or raise a
# PlatformError whose `retryable` says whether another attempt may help.
Download = Callable[[Attachment, "MediaStore"], Awaitable[StoredMedia]]


class MediaFetcher:
    """Owns one channel's download tasks; `close()` cancels them, `wait_idle()` awaits them."""

    def __init__(
        self,
        channel: str,
        account: str,
        download: Download,
        data_dir: Path,
        *,
        max_bytes: int,
        attempts: int = 3,
        retry_delay: float = 2.0,  # seconds before the second attempt; doubled each time after
        concurrency: int = 4,  # downloads at once, so a burst of photos does not flood the API
    ) -> None:
        self.channel = channel
        self.account = account
        self.download = download
        self.data_dir = data_dir
        self.store = MediaStore(data_dir, channel, max_bytes)
        self.attempts = max(attempts, 1)
        self.retry_delay = retry_delay
        self._tasks: set[asyncio.Task[None]] = set()
        self._running: set[tuple[str, str]] = set()
        self._slots = asyncio.Semaphore(max(concurrency, 1))

    def __repr__(self) -> str:
        return (
            f"MediaFetcher(channel={self.channel!r}, download={self.download!r}, "
            f"tasks={self.pending})"
        )

    @property
    def pending(self) -> int:
        return len(self._tasks)

    def schedule(self, sink: IntakeSink, items: Sequence[Inbound]) -> None:
        """Start one task per attachment with a media ref; returns at once."""
        for item in items:
            if isinstance(item, InboundMessage):
                for attachment in item.attachments:
                    self._start(sink, item.external_id, attachment)

    def resume(self, sink: IntakeSink, pending: Sequence[PendingMedia]) -> None:
        """Fetch again what a stopped process left pending."""
        for item in pending:
            self._start(sink, item.message_external_id, item.attachment)

    async def resume_pending(self, sink: IntakeSink, since: datetime) -> None:
        """Resume this account's downloads left pending since `since` (older refs have expired)."""
        try:
            pending = await sink.pending_media(self.channel, self.account, since)
        except IntakeUnavailable:
            log.warning(
                "%s: database unavailable, pending media of %s not resumed this start",
                self.channel,
                self.account,
            )
            return
        if pending:
            log.info(
                "%s: resuming %d pending media downloads of %s",
                self.channel,
                len(pending),
                self.account,
            )
            self.resume(sink, pending)

    async def wait_idle(self) -> None:
        """Return once every scheduled download has finished (tests, graceful shutdown)."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    async def close(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _start(self, sink: IntakeSink, message_id: str, attachment: Attachment) -> None:
        key = (message_id, attachment.media_ref or "")
        if not attachment.media_ref or key in self._running:
            return
        self._running.add(key)
        task = asyncio.create_task(
            self._fetch(sink, message_id, attachment), name=f"{self.channel}-media-{message_id}"
        )
        self._tasks.add(task)
        task.add_done_callback(lambda done: (self._tasks.discard(done), self._running.discard(key)))

    def _retrying(self, retried: type[Exception]) -> AsyncRetrying:
        """Up to `attempts` tries of one step, `retry_delay` doubling with jitter between them
        (the poll loop's Backoff) plus any wait the platform named."""
        backoff = Backoff(self.retry_delay, self.retry_delay * 2**self.attempts).strategy()

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            return (platform_retry_after(exc) or 0.0) + backoff(state) if exc else 0.0

        def worth_retrying(exc: BaseException) -> bool:
            return isinstance(exc, retried) and getattr(exc, "retryable", True)

        return AsyncRetrying(
            stop=stop_after_attempt(self.attempts),
            wait=wait,
            retry=retry_if_exception(worth_retrying),
            reraise=True,
        )

    async def _fetch(self, sink: IntakeSink, message_id: str, attachment: Attachment) -> None:
        ref = str(attachment.media_ref)
        tries = 0

        async def attempt() -> StoredMedia:
            nonlocal tries
            tries += 1
            try:
                async with self._slots:
                    return await self.download(attachment, self.store)
            except NotFetched:
                raise
            except PlatformError as exc:
                self._log(logging.INFO, f"attempt {tries} failed", message_id, ref, exc)
                raise

        try:
            stored = await self._retrying(PlatformError)(attempt)
        except NotFetched as exc:
            await self._record(sink, MediaResult(self.channel, message_id, ref, error=str(exc)))
            return
        except PlatformError as exc:
            self._log(logging.WARNING, "not fetched", message_id, ref, exc)
            await self._record(sink, MediaResult(self.channel, message_id, ref, error=str(exc)))
            return
        result = MediaResult(
            channel=self.channel,
            message_external_id=message_id,
            media_ref=ref,
            stored_path=stored.stored_path,
            sha256=stored.sha256,
            size=stored.size,
            mime_type=stored.mime_type,
        )
        await self._record(sink, result)

    async def _record(self, sink: IntakeSink, result: MediaResult) -> None:
        """Hand the result to intake, waiting out a short database outage."""
        tries = 0

        async def attempt() -> None:
            nonlocal tries
            tries += 1
            try:
                await sink.record_media(result)
            except IntakeUnavailable as exc:
                what = f"result not recorded (try {tries})"
                self._log(logging.WARNING, what, result.message_external_id, result.media_ref, exc)
                raise

        with contextlib.suppress(IntakeUnavailable):  # logged above; the download resumes later
            await self._retrying(IntakeUnavailable)(attempt)

    def _log(self, level: int, what: str, message_id: str, ref: str, error: object) -> None:
        # A signed CDN link carries its permission in the query string: never log that part.
        media = ref.split("?", 1)[0]
        log.log(
            level,
            "%s media %s: account=%s external_id=%s media=%s: %s",
            self.channel,
            what,
            self.account,
            message_id,
            media,
            error,
        )


class MediaStore:
    """Files under data_dir/media/<channel>/<sha[:2]>/<sha><suffix>, written under a temporary
    name and renamed, so a crash leaves only a .part file and never half a file by its name."""

    def __init__(self, data_dir: Path, channel: str, max_bytes: int) -> None:
        self.data_dir = data_dir
        self.directory = data_dir / "media" / channel
        self.max_bytes = max_bytes

    async def save_response(
        self,
        resp: aiohttp.ClientResponse,
        suffix: str,
        *,
        mime_type: str | None,
        expected_sha256: Iterable[str | None] = (),
    ) -> StoredMedia:
        """Stream a response body in while hashing it; refuse it past `max_bytes` or when its
        digest differs from one the platform announced. Network errors propagate as aiohttp's."""
        chunks = resp.content.iter_chunked(_CHUNK)
        return await self._save(chunks, suffix, mime_type, expected_sha256)

    async def save_bytes(self, data: bytes, suffix: str, *, mime_type: str | None) -> StoredMedia:
        """Store bytes a platform library already downloaded whole."""
        return await self._save(_once(data), suffix, mime_type, ())

    async def _save(
        self,
        chunks: AsyncIterable[bytes],
        suffix: str,
        mime_type: str | None,
        expected_sha256: Iterable[str | None],
    ) -> StoredMedia:
        await asyncio.to_thread(self.directory.mkdir, parents=True, exist_ok=True)
        handle = await asyncio.to_thread(_temp_file, self.directory)
        try:
            sha, size = hashlib.sha256(), 0
            async for chunk in chunks:
                size += len(chunk)
                if size > self.max_bytes:
                    raise PlatformError(f"larger than {self.max_bytes} bytes", retryable=False)
                sha.update(chunk)
                await asyncio.to_thread(handle.write, chunk)
            digest = sha.hexdigest()
            for announced in expected_sha256:
                if announced and announced != digest:
                    raise PlatformError(
                        f"sha256 mismatch: announced {announced}, received {digest}",
                        retryable=True,
                    )
            final = self.directory / digest[:2] / f"{digest}{suffix}"
            await asyncio.to_thread(_move, handle, final)
        finally:
            await asyncio.to_thread(_discard, handle)
        stored_path = final.relative_to(self.data_dir).as_posix()
        return StoredMedia(stored_path, digest, size, mime_type)


@asynccontextmanager
async def http_get(
    http: aiohttp.ClientSession,
    url: str,
    *,
    client_timeout: aiohttp.ClientTimeout,
    headers: dict[str, str] | None = None,
    step: str = "download",
    error_body: bool = False,
) -> AsyncIterator[aiohttp.ClientResponse]:
    """GET `url` and yield the 200 response; any other status, and network trouble while the
    body is read, become a PlatformError worded after `step`."""
    try:
        async with http.get(url, headers=headers, timeout=client_timeout) as resp:
            if resp.status != 200:
                body = await resp.text() if error_body else ""
                raise _http_failure(step, resp.status, body)
            yield resp
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise PlatformError(f"{step} failed: {exc!r}", retryable=True) from exc


def _http_failure(step: str, status: int, body: str = "") -> PlatformError:
    # Retry only what can heal by itself (rate limits, server trouble), not a 4xx such as an
    # expired link: Graph even blocks a number's media lookups after repeated failures.
    detail = f": {body[:300]}" if body else ""
    retryable = status == 429 or status >= 500
    return PlatformError(f"{step} HTTP {status}{detail}", retryable=retryable, code=str(status))


def suffix_for(mime_type: str | None, *file_names: str | None) -> str:
    """The stored file's suffix: a file name's own if it is plain, else one for the MIME type."""
    for name in file_names:
        suffix = Path(name or "").suffix
        if _SAFE_SUFFIX.match(suffix):
            return suffix.lower()
    guessed = mimetypes.guess_extension((mime_type or "").split(";")[0].strip())
    return guessed or ".bin"


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


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
