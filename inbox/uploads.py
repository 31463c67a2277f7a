"""Files staff send with an OPD's answer, from the ticket page's form or the API's multipart
body: every file is checked before any is stored, so a refused one leaves nothing behind."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp.web_request import FileField

from inbox.i18n import translate
from store import answer_files
from store.flags import AnswerFile
from triage.answer_files import (
    SUFFIXES,
    FileRefused,
    FileRules,
    check_count,
    checked,
    kind_of,
    safe_name,
)

FIELD = "files"


@dataclass(frozen=True, slots=True)
class Upload:
    name: str
    data: bytes


def uploads_of(form: Any) -> list[Upload]:
    """The files of a parsed form; a file input left empty sends a part with no name."""
    found = []
    for part in form.getall(FIELD, []):
        if not isinstance(part, FileField):
            continue
        data = part.file.read()
        if not part.filename and not data:
            continue
        found.append(Upload(part.filename or "lampiran", data))
    return found


def refusal_words(refused: FileRefused, locale: str) -> str:
    """Why a file was refused, naming it, in the user's language."""
    return translate(f"upload.{refused.reason}", locale, file=refused.file_name, **refused.values)


@dataclass
class StoredUploads:
    """The files as stored; `undo` takes back those this request wrote if the action fails."""

    files: list[AnswerFile]
    undo: Callable[[], None]


def _store(data_dir: Path, uploads: list[Upload], rules: FileRules) -> StoredUploads:
    check_count([u.name for u in uploads], rules)
    types = [checked(u.name, u.data, rules) for u in uploads]  # all, before storing any
    files, written = [], []
    for upload, mime in zip(uploads, types, strict=True):
        stored, created = answer_files.save(
            data_dir,
            upload.data,
            file_name=safe_name(upload.name, mime),
            mime_type=mime,
            kind=kind_of(mime).value,
            suffix=SUFFIXES[mime],
        )
        files.append(stored)
        if created:
            written.append(stored)
    return StoredUploads(files, lambda: answer_files.remove(data_dir, written))


async def store_uploads(
    data_dir: Path | None, uploads: list[Upload], rules: FileRules
) -> StoredUploads:
    """Raises FileRefused when any file is not taken."""
    if not uploads:
        return StoredUploads([], lambda: None)
    if data_dir is None:  # an app built without a data directory takes no files
        raise FileRefused(uploads[0].name, "unavailable")
    return await asyncio.to_thread(_store, data_dir, uploads, rules)
