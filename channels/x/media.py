"""Downloading one photo attached to a tweet or DM from its https URL; videos are not fetched."""

from __future__ import annotations

import mimetypes
from collections.abc import Sequence
from pathlib import Path

import aiohttp

from channels.base import Attachment
from channels.media_fetch import MediaStore, NotFetched, StoredMedia, http_get
from channels.media_hosts import X_MEDIA_HOSTS, host_allowed, refused_host

NOT_FETCHED = "only photos are downloaded from X; see the post on X"


class XPhotoDownload:
    """A photo's media_ref is its pbs URL; a video's is its media key, which we leave on X."""

    def __init__(
        self,
        http: aiohttp.ClientSession,
        *,
        timeout: float,
        media_hosts: Sequence[str] = X_MEDIA_HOSTS,
        api_base: str = "",
    ) -> None:
        self.media_hosts = tuple(media_hosts)  # a payload can name any URL: only these
        self.api_base = api_base
        self.http = http
        self.timeout = aiohttp.ClientTimeout(total=timeout)

    def __repr__(self) -> str:
        return "XPhotoDownload()"

    async def __call__(self, attachment: Attachment, store: MediaStore) -> StoredMedia:
        url = str(attachment.media_ref)
        if not url.startswith(("https://", "http://")):
            raise NotFetched(NOT_FETCHED)
        if not host_allowed(url, self.media_hosts, self.api_base):
            raise refused_host(url, "photo download")
        async with http_get(self.http, url, client_timeout=self.timeout) as resp:
            mime_type = resp.content_type or None
            suffix = mimetypes.guess_extension(mime_type or "") or Path(url).suffix[:6] or ".bin"
            return await store.save_response(resp, suffix, mime_type=mime_type)
