"""Downloading one Telegram file: file_id -> getFile -> bytes, through the bot's own client."""

from __future__ import annotations

import mimetypes
import re
import warnings
from collections.abc import Awaitable, Callable

from telegram import Bot
from telegram.error import NetworkError, RetryAfter, TelegramError
from telegram.warnings import PTBDeprecationWarning

from channels.base import Attachment, PlatformError
from channels.media_fetch import MediaStore, NotFetched, StoredMedia, suffix_for

# What the Bot API's file paths look like ("photos/file_7.jpg"): relative, plain segments.
_SAFE_PATH = re.compile(r"^[A-Za-z0-9_-]+(?:/[A-Za-z0-9_][A-Za-z0-9_.-]*)*$")


class TelegramDownload:
    """getFile, then the file's bytes from /file/bot<token>/<path>, both via PTB's Bot."""

    def __init__(self, bot: Callable[[], Awaitable[Bot]]) -> None:
        self._bot = bot

    def __repr__(self) -> str:
        return "TelegramDownload()"

    async def __call__(self, attachment: Attachment, store: MediaStore) -> StoredMedia:
        if attachment.size and attachment.size > store.max_bytes:
            raise NotFetched(f"file of {attachment.size} bytes is over {store.max_bytes}")
        try:
            bot = await self._bot()
            file = await bot.get_file(str(attachment.media_ref))
            _check_remote(file.file_path, bot.base_file_url)
            if file.file_size and file.file_size > store.max_bytes:
                raise TelegramError(f"file of {file.file_size} bytes is over {store.max_bytes}")
            data = bytes(await file.download_as_bytearray())
        except RetryAfter as exc:
            raise PlatformError(str(exc), retryable=True, retry_after=retry_seconds(exc)) from exc
        except NetworkError as exc:  # includes TimedOut and 5xx answers
            raise PlatformError(f"{type(exc).__name__}: {exc}", retryable=True) from exc
        except TelegramError as exc:  # a file id Telegram no longer knows, ...
            raise PlatformError(f"{type(exc).__name__}: {exc}", retryable=False) from exc
        mime_type = attachment.mime_type or mimetypes.guess_type(file.file_path or "")[0]
        suffix = suffix_for(attachment.mime_type, attachment.file_name, file.file_path)
        return await store.save_bytes(data, suffix, mime_type=mime_type)


def _check_remote(file_path: str | None, base_file_url: str) -> None:
    """Refuse a file_path that PTB would read from the local disk or that leaves the file URL.

    PTB keeps a getFile answer naming an existing local file (absolute, or relative with ../)
    as a local path and reads it: that would put our own files before the staff.
    """
    prefix = f"{base_file_url.rstrip('/')}/"
    relative = (file_path or "").removeprefix(prefix)
    safe = (
        base_file_url.startswith(("https://", "http://"))
        and (file_path or "").startswith(prefix)
        and _SAFE_PATH.fullmatch(relative) is not None
    )
    if not safe:
        shown = relative.encode("unicode_escape").decode("ascii")[:200]
        raise PlatformError(
            f"unsafe file_path from getFile, not downloaded: {shown!r}",
            retryable=False, code="unsafe_path",
        )


def retry_seconds(exc: RetryAfter) -> float:
    """RetryAfter.retry_after in seconds, an int now and a timedelta in PTB's next major."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value: object = exc.retry_after
    total = getattr(value, "total_seconds", None)
    return float(total()) if callable(total) else float(value)  # type: ignore[arg-type]
