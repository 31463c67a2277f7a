"""Signed addresses of the files sent to reporters on channels that take no files (X, SMS):
served without a login (inbox/public_files.py), each token good for its one file only."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass, field

from channels.base import OutboundFile


def token(secret: bytes, attachment_id: int) -> str:
    """HMAC-SHA256 of the attachment's id: unguessable, and names no other file."""
    digest = hmac.new(secret, f"attachment:{attachment_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def valid(secret: bytes, attachment_id: int, given: str) -> bool:
    return hmac.compare_digest(token(secret, attachment_id).encode(), given.encode())


@dataclass(frozen=True)
class FileLinks:
    """Makes the public address of an attachment: `base_url` is how reporters reach Kanal."""

    base_url: str
    secret: bytes = field(repr=False)

    def __call__(self, attachment_id: int, file: OutboundFile | None = None) -> str:
        signed = token(self.secret, attachment_id)
        return f"{self.base_url.rstrip('/')}/files/{attachment_id}/{signed}"
