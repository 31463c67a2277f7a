"""Nothing acknowledged is lost: a real `main.py serve` killed with SIGKILL under webhook load,
fed by a separate process that retries until it gets 200 (as Meta does)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlmodel import col, func, select

from conftest import REPO
from processes import serve, wait_healthy
from store.db import Database
from store.models import Message, RawEvent, Ticket
from support.local_server import free_port

pytestmark = pytest.mark.empty_database  # Alembic builds the schema itself

SECRET = "kill-test-app-secret"
PHONE = "106540352242922"
COUNT = 900


def acked(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").split() if path.exists() else []


def test_sigkill_under_load_loses_and_doubles_nothing(database_url: str, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "{database_url}"\n'
        # Acknowledgements off: message_count must count the reporters' messages alone.
        "[channels.whatsapp]\nenabled = true\nacknowledge = false\n"
        f'verify_token = "verify-me"\napp_secret = "{SECRET}"\naccess_token = "EAAG-test"\n'
        f'phone_number_id = "{PHONE}"\napi_base = "http://127.0.0.1:9/v23.0"\n',
        encoding="utf-8",
    )
    if database_url.startswith("postgresql"):
        upgrade = subprocess.run(
            [sys.executable, str(REPO / "main.py"), "--config", str(config), "db", "upgrade"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
        )
        assert upgrade.returncode == 0, upgrade.stderr
    port = free_port()
    log = tmp_path / "server.log"
    acked_file = tmp_path / "acked.txt"
    server = serve(config, port, log)
    wait_healthy(port, server)
    loader = subprocess.Popen(
        [
            sys.executable,
            str(REPO / "tests" / "load_whatsapp.py"),
            f"http://127.0.0.1:{port}/webhooks/whatsapp",
            SECRET,
            PHONE,
            str(COUNT),
            "32",
            str(acked_file),
        ],
    )
    try:
        deadline = time.monotonic() + 60
        while len(acked(acked_file)) < COUNT // 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        before_kill = len(acked(acked_file))
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=10)
        server = serve(config, port, log)
        wait_healthy(port, server)
        assert loader.wait(timeout=240) == 0
    finally:
        loader.kill()
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)

    wamids = acked(acked_file)
    assert COUNT // 3 <= before_kill < COUNT, "the kill did not land in the middle of the load"
    assert Counter(wamids) == Counter(f"wamid.LOAD{n:08d}" for n in range(COUNT))
    db = Database(database_url)
    with db.read() as session:
        stored = Counter(
            session.exec(select(Message.external_id).where(Message.direction == "in")).all()
        )
        raw = session.exec(select(func.count()).select_from(RawEvent)).one()
        numbers = session.exec(select(Ticket.number)).all()
        counted = session.exec(select(func.sum(col(Ticket.message_count)))).one()
    db.dispose()
    assert stored == Counter(wamids)  # every acknowledged message, each exactly once
    assert raw == COUNT
    assert len(numbers) == len(set(numbers)) == 300  # one ticket per reporter
    assert counted == COUNT
