"""Downloading one Instagram or Facebook attachment from its signed CDN URL."""

from __future__ import annotations

from collections.abc import Sequence

import aiohttp

from channels.base import Attachment
from channels.media_fetch import MediaStore, StoredMedia, http_get, suffix_for
from channels.media_hosts import META_MEDIA_HOSTS, host_allowed, refused_host


class CdnDownload:
    """CDN URLs are signed and expire within days, so each is fetched once, right after its
    message is committed. No token is sent: the URL itself is the permission. Only URLs on
    `media_hosts` (or api_base's host) are fetched: a payload can name any URL."""

    def __init__(
        self,
        http: aiohttp.ClientSession,
        *,
        timeout: float,
        media_hosts: Sequence[str] = META_MEDIA_HOSTS,
        api_base: str = "",
    ) -> None:
        self.media_hosts = tuple(media_hosts)
        self.api_base = api_base
        self.http = http
        self.timeout = aiohttp.ClientTimeout(total=timeout)

    def __repr__(self) -> str:
        return "CdnDownload()"

    async def __call__(self, attachment: Attachment, store: MediaStore) -> StoredMedia:
        url = str(attachment.media_ref)
        if not host_allowed(url, self.media_hosts, self.api_base):
            raise refused_host(url, "media download")
        async with http_get(self.http, url, client_timeout=self.timeout) as resp:
            mime_type = attachment.mime_type or resp.headers.get("Content-Type")
            return await store.save_response(resp, suffix_for(mime_type), mime_type=mime_type)
