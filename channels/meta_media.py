"""Downloading one Instagram or Facebook attachment from its signed CDN URL."""

from __future__ import annotations

import aiohttp

from channels.base import Attachment
from channels.media_fetch import MediaStore, StoredMedia, http_get, suffix_for


class CdnDownload:
    """CDN URLs are signed and expire within days, so each is fetched once, right after its
    message is committed. No token is sent: the URL itself is the permission."""

    def __init__(self, http: aiohttp.ClientSession, *, timeout: float) -> None:
        self.http = http
        self.timeout = aiohttp.ClientTimeout(total=timeout)

    def __repr__(self) -> str:
        return "CdnDownload()"

    async def __call__(self, attachment: Attachment, store: MediaStore) -> StoredMedia:
        url = str(attachment.media_ref)
        async with http_get(self.http, url, client_timeout=self.timeout) as resp:
            mime_type = attachment.mime_type or resp.headers.get("Content-Type")
            return await store.save_response(resp, suffix_for(mime_type), mime_type=mime_type)
