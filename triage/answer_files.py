"""Files staff attach to an OPD's answer: which are taken, told by their first bytes, not by
the name or the type the browser declared."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass

from channels.base import AttachmentKind

# What each accepted type's file starts with.
_SIGNATURES: dict[str, Callable[[bytes], bool]] = {
    "image/jpeg": lambda head: head.startswith(b"\xff\xd8\xff"),
    "image/png": lambda head: head.startswith(b"\x89PNG\r\n\x1a\n"),
    "image/webp": lambda head: head[:4] == b"RIFF" and head[8:12] == b"WEBP",
    "application/pdf": lambda head: head.startswith(b"%PDF-"),
}
KNOWN_TYPES: tuple[str, ...] = tuple(_SIGNATURES)
SUFFIXES = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "application/pdf": ".pdf",
}
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\]+")
MAX_NAME = 120


@dataclass(frozen=True, slots=True)
class FileRules:
    """`[triage] answer_file_*`: how big, of which types and how many files an answer takes."""

    max_bytes: int
    types: frozenset[str]
    max_files: int


class FileRefused(ValueError):
    """A file that is not taken; `reason` is a texts key under `upload.` (too_big, type,
    too_many, empty) and `values` fill it."""

    def __init__(self, file_name: str, reason: str, **values: object) -> None:
        super().__init__(f"{file_name}: {reason} {values or ''}".strip())
        self.file_name = file_name
        self.reason = reason
        self.values = values


def content_type(data: bytes) -> str | None:
    """The accepted type `data` is, by its first bytes; None for anything else."""
    head = data[:16]
    return next((mime for mime, matches in _SIGNATURES.items() if matches(head)), None)


def checked(file_name: str, data: bytes, rules: FileRules) -> str:
    """The file's type when the rules take it; FileRefused with the reason otherwise."""
    if not data:
        raise FileRefused(file_name, "empty")
    if len(data) > rules.max_bytes:
        raise FileRefused(file_name, "too_big", limit=megabytes(rules.max_bytes))
    mime = content_type(data)
    if mime is None or mime not in rules.types:
        raise FileRefused(file_name, "type", allowed=allowed_names(rules.types))
    return mime


def check_count(names: Collection[str], rules: FileRules) -> None:
    if len(names) > rules.max_files:
        raise FileRefused(", ".join(names), "too_many", limit=rules.max_files)


def kind_of(mime: str) -> AttachmentKind:
    return AttachmentKind.IMAGE if mime.startswith("image/") else AttachmentKind.DOCUMENT


def safe_name(file_name: str, mime: str) -> str:
    """The name as the reporter will see it: no path, no control characters, not too long,
    ending in its type's suffix."""
    name = _UNSAFE.sub("_", file_name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]).strip(" ._")
    suffix = SUFFIXES[mime]
    stem = name[: -len(suffix)] if name.lower().endswith(suffix) else name
    if mime == "image/jpeg" and name.lower().endswith(".jpeg"):
        stem = name[:-5]
    return (stem or "lampiran")[: MAX_NAME - len(suffix)] + suffix


def megabytes(size: int) -> str:
    """A size limit as people read it: "10 MB", "4 KB"."""
    if size < 1024 * 1024:
        return f"{size / 1024:.3g} KB"
    return f"{size / (1024 * 1024):.3g} MB"


def allowed_names(types: Collection[str]) -> str:
    return ", ".join(SUFFIXES[t].lstrip(".").upper() for t in KNOWN_TYPES if t in types)
