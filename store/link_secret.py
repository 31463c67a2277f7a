"""The key that signs public file links: `[server] secret`, or one made once and kept in the
data directory, which every process of one Kanal shares (its media are there too)."""

from __future__ import annotations

import os
import secrets
import uuid
from pathlib import Path

FILE_NAME = "link-secret"


def link_secret(configured: str, data_dir: Path) -> bytes:
    if configured:
        return configured.encode()
    path = data_dir / FILE_NAME
    if not path.exists():
        # Written whole under another name, then linked into place: two processes starting
        # at once both read the one that won, never a half-written file.
        draft = data_dir / f".{FILE_NAME}.{uuid.uuid4().hex}"
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as out:
            out.write(secrets.token_urlsafe(48))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_bytes().strip()
