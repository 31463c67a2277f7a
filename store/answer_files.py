"""Where the files of an OPD's answer are kept: under the data directory, named by their
SHA-256 like fetched media, written under a temporary name and renamed into place."""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path

from store.flags import AnswerFile

FOLDER = ("media", "answers")


def save(
    data_dir: Path, data: bytes, *, file_name: str, mime_type: str, kind: str, suffix: str
) -> tuple[AnswerFile, bool]:
    """The stored file and whether this call wrote it (the same bytes may be there already)."""
    digest = hashlib.sha256(data).hexdigest()
    folder = data_dir.joinpath(*FOLDER, digest[:2])
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"{digest}{suffix}"
    created = not final.exists()
    if created:
        temporary = folder / f".{uuid.uuid4().hex}.part"
        with open(temporary, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, final)
    stored = AnswerFile(
        path=final.relative_to(data_dir).as_posix(),
        name=file_name,
        mime_type=mime_type,
        kind=kind,
        size=len(data),
        sha256=digest,
    )
    return stored, created


def remove(data_dir: Path, files: list[AnswerFile]) -> None:
    """Take back files written for an action that did not happen."""
    for stored in files:
        (data_dir / stored.path).unlink(missing_ok=True)
