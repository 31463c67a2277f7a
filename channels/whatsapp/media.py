"""Downloading one WhatsApp attachment: media id -> URL -> bytes, checked against its sha256."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

import aiohttp
from pydantic import SecretStr

from channels.base import Attachment, PlatformError
from channels.media_fetch import MediaStore, StoredMedia, http_get, suffix_for
from channels.media_hosts import WHATSAPP_MEDIA_HOSTS, checked_id, host_allowed, refused_host
from channels.whatsapp.messages import media_sha256_hex


class WhatsAppDownload:
    """The Cloud API's two steps: look the media id up on Graph, then GET the URL it names,
    both with the bearer token; the bytes must match the sha256 WhatsApp announced. The token
    goes only to the API host and to `media_hosts`, whatever URL the lookup names."""

    def __init__(
        self,
        api_base: str,
        access_token: SecretStr,
        http: aiohttp.ClientSession,
        *,
        timeout: float,
        media_hosts: Sequence[str] = WHATSAPP_MEDIA_HOSTS,
    ) -> None:
        self.media_hosts = tuple(media_hosts)
        self.api_base = api_base
        self.access_token = access_token
        self.http = http
        self.timeout = aiohttp.ClientTimeout(total=timeout)

    def __repr__(self) -> str:
        return f"WhatsAppDownload(api_base={self.api_base!r})"

    async def __call__(self, attachment: Attachment, store: MediaStore) -> StoredMedia:
        info = await self._lookup(str(attachment.media_ref))
        url = info.get("url")
        if not isinstance(url, str) or not url:
            raise PlatformError("media lookup answered without a url", retryable=True)
        if not host_allowed(url, self.media_hosts, self.api_base):
            raise refused_host(url, "media download")
        mime_type = info.get("mime_type") or attachment.mime_type
        announced_size = str(info.get("file_size") or "")  # Graph sends it as a string
        if announced_size.isdigit() and int(announced_size) > store.max_bytes:
            limit = store.max_bytes
            raise PlatformError(f"media of {announced_size} bytes is over {limit}", retryable=False)
        async with self._get(url, "media download") as resp:
            return await store.save_response(
                resp,
                suffix_for(mime_type, attachment.file_name),
                mime_type=mime_type,
                expected_sha256=(media_sha256_hex(info.get("sha256")), attachment.sha256),
            )

    async def _lookup(self, media_id: str) -> dict[str, Any]:
        media_id = checked_id(media_id, "media id")  # "../" would leave the API version
        async with self._get(f"{self.api_base.rstrip('/')}/{media_id}", "media lookup") as resp:
            try:
                info = await resp.json(content_type=None)
            except ValueError as exc:
                raise PlatformError(f"media lookup failed: {exc!r}", retryable=True) from exc
        if not isinstance(info, dict):
            raise PlatformError("media lookup answered no JSON object", retryable=True)
        return info

    def _get(self, url: str, step: str) -> AbstractAsyncContextManager[aiohttp.ClientResponse]:
        token = self.access_token.get_secret_value()
        return http_get(
            self.http,
            url,
            client_timeout=self.timeout,
            headers={"Authorization": f"Bearer {token}"},
            step=step,
            error_body=True,
        )
