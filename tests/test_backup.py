"""Backup under load and restore: every message acknowledged before the backup comes back."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from pathlib import Path

from sqlmodel import select

from api_client import report
from conftest import REPO
from store import backup
from store.db import Database
from store.models import Message
from support.command_line import run_main
from triage.intake import Intake


def kanal(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_main(config, *args)


def kanal_process(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """A command in a process of its own, beside the service's, as an admin runs it."""
    return subprocess.run(
        [sys.executable, str(REPO / "main.py"), "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def write_config(folder: Path, url: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "config.toml"
    config.write_text(f'data_dir = "data"\n[database]\nurl = "{url}"\n', encoding="utf-8")
    return config


async def test_a_backup_under_load_restores_every_acknowledged_message(
    tmp_path: Path, clock
) -> None:
    site = tmp_path / "site"
    url = f"sqlite:///{site / 'data' / 'kanal.db'}"
    config = write_config(site, url)
    assert kanal(config, "db", "upgrade").returncode == 0
    photo = site / "data" / "media" / "whatsapp" / "foto.jpg"
    photo.parent.mkdir(parents=True)
    photo.write_bytes(b"\xff\xd8 a photo")
    db = Database(url)
    intake = Intake(db, clock=clock)
    await intake.start()
    acknowledged: list[str] = []
    stopping = asyncio.Event()

    async def load(first: int) -> None:
        # Senders wait for the intake's commit, as a webhook does before it answers 200.
        n = first
        while not stopping.is_set():
            batch = [report(n + k) for k in range(4)]
            await intake.submit(batch)
            acknowledged.extend(m.external_id for m in batch)
            n += 4

    try:
        writers = [asyncio.create_task(load(first)) for first in (0, 10_000, 20_000)]
        while len(acknowledged) < 200:
            await asyncio.sleep(0.01)
        before = set(acknowledged)
        result = await asyncio.to_thread(kanal_process, config, "backup", str(tmp_path / "copy"))
        after = set(acknowledged)
        stopping.set()
        await asyncio.gather(*writers)
    finally:
        await intake.stop()
        db.dispose()
    assert result.returncode == 0, result.stderr
    assert len(after) > len(before)  # the service kept taking reports during the backup
    assert "sqlite database, 1 media files" in result.stdout

    restored_site = tmp_path / "restored"
    restored_url = f"sqlite:///{restored_site / 'data' / 'kanal.db'}"
    restored_config = write_config(restored_site, restored_url)
    done = kanal(restored_config, "restore", str(tmp_path / "copy"))
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(restored_site / "data" / "kanal.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    restored = Database(restored_url)
    with restored.read() as session:
        stored = {m.external_id for m in session.exec(select(Message)).all()}
    restored.dispose()
    assert before <= stored  # everything acknowledged before the backup began
    assert stored <= after  # and nothing that was never acknowledged
    assert (restored_site / "data" / "media" / "whatsapp" / "foto.jpg").read_bytes() == (
        b"\xff\xd8 a photo"
    )
    # The restored copy runs: migrations find it up to date.
    assert kanal(restored_config, "db", "upgrade").returncode == 0


def test_restore_refuses_a_data_dir_in_use(tmp_path: Path) -> None:
    site = tmp_path / "site"
    url = f"sqlite:///{site / 'data' / 'kanal.db'}"
    config = write_config(site, url)
    assert kanal(config, "db", "upgrade").returncode == 0
    assert kanal(config, "backup", str(tmp_path / "copy")).returncode == 0
    again = kanal(config, "backup", str(tmp_path / "copy"))
    assert (again.returncode, "is not empty" in again.stderr) == (1, True)
    refused = kanal(config, "restore", str(tmp_path / "copy"))
    assert refused.returncode == 1
    assert "not empty; restore into an empty data_dir" in refused.stderr


def test_on_postgresql_the_command_is_explained_and_media_copied(tmp_path: Path, clock) -> None:
    url = "postgresql+psycopg://kanal@db.example/kanal"
    media = tmp_path / "data" / "media" / "x.png"
    media.parent.mkdir(parents=True)
    media.write_bytes(b"png")
    done = backup.backup(url, tmp_path / "data", tmp_path / "copy", clock())
    assert done.instructions.splitlines()[1].strip() == (
        f"pg_dump --format=custom --file={tmp_path / 'copy' / 'kanal.dump'}"
        " 'postgresql://kanal@db.example/kanal'"
    )
    assert (tmp_path / "copy" / "media" / "x.png").read_bytes() == b"png"
    back = backup.restore(tmp_path / "copy", url, tmp_path / "new-data")
    assert "pg_restore --no-owner" in back.instructions
    assert (tmp_path / "new-data" / "media" / "x.png").read_bytes() == b"png"
