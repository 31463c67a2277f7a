"""Backup and restore of a running Kanal: the database and the media it points to.

SQLite: a consistent copy through SQLite's online backup API, taken while the service keeps
writing (readers and the writer go on; the copy is the database as of one moment). The media
are copied after it, so every file a copied row names is already there (a row names its file
only once the file is written). PostgreSQL: its own `pg_dump`/`pg_restore` copy the database
(the commands are printed with the URL); the media are copied here all the same.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

DATABASE_FILE = "kanal.db"
MEDIA = "media"
MANIFEST = "backup.json"
PG_DUMP_FILE = "kanal.dump"


class BackupError(Exception):
    """A backup or restore that cannot be done, with the reason an admin reads."""


@dataclass(frozen=True, slots=True)
class Done:
    backend: str
    media_files: int
    instructions: str = ""  # PostgreSQL: the command the admin runs for the database


def _sqlite_path(url: str) -> Path | None:
    return Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else None


def _plain_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def backup(url: str, data_dir: Path, target: Path, now: datetime) -> Done:
    """Copy the database (SQLite) and the media into `target`, a new or empty folder."""
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"{target} is not empty; back up into a new folder")
    target.mkdir(parents=True, exist_ok=True)
    database = _sqlite_path(url)
    instructions = ""
    if database is not None:
        if not database.exists():
            raise BackupError(f"no database at {database}")
        with sqlite3.connect(database) as source, sqlite3.connect(target / DATABASE_FILE) as copy:
            source.backup(copy)  # all pages in one step: the database as of one moment
        copy.close()
        source.close()
    else:
        instructions = (
            "Copy the PostgreSQL database with its own tool, while Kanal runs:\n"
            f"  pg_dump --format=custom --file={target / PG_DUMP_FILE} '{_plain_url(url)}'"
        )
    media = _copy_media(data_dir / MEDIA, target / MEDIA)
    manifest = {
        "taken_at": now.isoformat(),
        "database": "sqlite" if database is not None else "postgresql",
        "media_files": media,
    }
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return Done(manifest["database"], media, instructions)  # type: ignore[arg-type]


def restore(source: Path, url: str, data_dir: Path) -> Done:
    """Put a backup back into an empty `data_dir` (and, on SQLite, at the configured path)."""
    try:
        manifest = json.loads((source / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BackupError(f"{source} is not a Kanal backup ({MANIFEST} unreadable)") from exc
    if data_dir.exists() and any(data_dir.iterdir()):
        raise BackupError(f"{data_dir} is not empty; restore into an empty data_dir")
    database = _sqlite_path(url)
    instructions = ""
    if manifest["database"] == "sqlite":
        if database is None:
            raise BackupError("the backup is of SQLite, the config names PostgreSQL")
        if database.exists():
            raise BackupError(f"{database} exists; restore needs it absent")
        database.parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(source / DATABASE_FILE) as copy, sqlite3.connect(database) as into:
            copy.backup(into)
        copy.close()
        into.close()
    else:
        if database is not None:
            raise BackupError("the backup is of PostgreSQL, the config names SQLite")
        instructions = (
            "Restore the PostgreSQL database into an empty database with its own tool:\n"
            f"  pg_restore --no-owner --dbname='{_plain_url(url)}' {source / PG_DUMP_FILE}"
        )
    data_dir.mkdir(parents=True, exist_ok=True)
    media = _copy_media(source / MEDIA, data_dir / MEDIA)
    return Done(manifest["database"], media, instructions)


def _copy_media(source: Path, target: Path) -> int:
    if not source.is_dir():
        return 0
    shutil.copytree(source, target, dirs_exist_ok=True)
    return sum(1 for path in target.rglob("*") if path.is_file())
