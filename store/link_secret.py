"""The key that signs public file links: `[server] secret`, or one made once and kept in the
data directory, which every process of one Kanal shares (its media are there too)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

FILE_NAME = "link-secret"


def link_secret(configured: str, data_dir: Path) -> bytes:
    if configured:
        return configured.encode()
    path = data_dir / FILE_NAME
    try:
        # O_EXCL: two processes starting at once agree on the first one written.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    with os.fdopen(descriptor, "w") as out:
        out.write(secrets.token_urlsafe(48))
    return path.read_bytes().strip()
