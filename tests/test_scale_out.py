"""Three Kanal processes on one PostgreSQL: webhooks spread and repeated across them, one process
SIGKILLed, PostgreSQL restarted; nothing lost or doubled, sweeps once per period, replies once.
The PostgreSQL is a private server of this test's, so its restart disturbs no other test."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from sqlmodel import col, func, select

from conftest import REPO
from fake_whatsapp_cloud import FakeWhatsAppCloud
from processes import health, kanal_command, serve, wait_healthy
from servers.postgresql import PrivatePostgres
from store.db import Database
from store.models import JobRun, Message, OutboxItem, Ticket
from support.local_server import free_port
from support.waiting import until

SECRET = "scale-app-secret"
PHONE = "106540352242922"
COUNT = 900
REPLIES = 30


def acked(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").split() if path.exists() else []


def prepare(pg_database: str, tmp_path: Path, fake: FakeWhatsAppCloud) -> tuple[Path, str]:
    """A config for three processes, migrations, an operator and its token."""
    config = tmp_path / "config.toml"
    config.write_text(
        f'[server]\nleader_check = "1s"\n[database]\nurl = "{pg_database}"\n'
        '[triage]\nsweep_interval = "2s"\n'
        # Acknowledgements off: the test counts the operators' replies alone.
        "[channels.whatsapp]\nenabled = true\nacknowledge = false\n"
        f'verify_token = "v"\napp_secret = "{SECRET}"\naccess_token = "{fake.access_token}"\n'
        f'phone_number_id = "{PHONE}"\napi_base = "{fake.api_base}"\n',
        encoding="utf-8",
    )
    for args in (
        ("db", "upgrade"),
        ("user", "add", "op", "--role", "operator", "--password-stdin"),
    ):
        done = subprocess.run(
            kanal_command(config, *args),
            cwd=tmp_path,
            input="kata-sandi-op\n",
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
    token = subprocess.run(
        kanal_command(config, "token", "create", "op"),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return config, token


@pytest.fixture
async def fake() -> AsyncIterator[FakeWhatsAppCloud]:
    server = await FakeWhatsAppCloud().start()
    yield server
    await server.stop()


async def test_three_processes_lose_and_double_nothing(
    private_postgres: PrivatePostgres, tmp_path: Path, fake: FakeWhatsAppCloud
) -> None:
    pg_database = private_postgres.url  # its own server, so restarting it disturbs no other test
    config, token = await asyncio.to_thread(prepare, pg_database, tmp_path, fake)
    ports = [free_port() for _ in range(3)]
    servers = [serve(config, port, tmp_path / f"server{i}.log") for i, port in enumerate(ports)]
    acked_file = tmp_path / "acked.txt"
    loader = None
    try:
        for port, server in zip(ports, servers, strict=True):
            await asyncio.to_thread(wait_healthy, port, server)
        await until(lambda: _leaders_of("scheduler", ports) == 1, 20, interval=0.1)
        urls = ",".join(f"http://127.0.0.1:{p}/webhooks/whatsapp" for p in ports)
        loader = await asyncio.to_thread(
            subprocess.Popen,
            [
                sys.executable,
                str(REPO / "tests" / "load_whatsapp.py"),
                urls,
                SECRET,
                PHONE,
                str(COUNT),
                "24",
                str(acked_file),
            ],
        )
        await until(lambda: len(acked(acked_file)) >= COUNT // 3, 60, interval=0.1)
        leader = next(
            i for i, p in enumerate(ports) if "scheduler" in (health(p) or {}).get("leading", [])
        )
        servers[leader].send_signal(signal.SIGKILL)  # the leader, so the scheduler moves
        await asyncio.to_thread(servers[leader].wait, 10)
        survivors = [p for i, p in enumerate(ports) if i != leader]
        await until(lambda: _leaders_of("scheduler", survivors) == 1, 20, interval=0.1)
        await until(lambda: len(acked(acked_file)) >= 2 * COUNT // 3, 60, interval=0.1)
        await asyncio.to_thread(private_postgres.restart)
        assert await asyncio.to_thread(loader.wait, 180) == 0
        await until(
            lambda: all((health(p) or {}).get("status") == "ok" for p in survivors),
            30,
            interval=0.1,
        )
        await until(lambda: _leaders_of("scheduler", survivors) == 1, 30, interval=0.1)

        numbers = _ticket_numbers(pg_database)[:REPLIES]
        async with aiohttp.ClientSession() as http:
            for n, number in enumerate(numbers):
                port = survivors[n % len(survivors)]
                async with http.post(
                    f"http://127.0.0.1:{port}/api/tickets/{number}/actions",
                    json={"action": "reply", "message": f"Balasan untuk {number}"},
                    headers={"Authorization": f"Bearer {token}"},
                ) as response:
                    assert response.status == 200, await response.text()
        await until(lambda: len(fake.sent) >= REPLIES, 60, interval=0.1)
        await asyncio.sleep(3)  # a second send of anything would arrive by now
    finally:
        if loader is not None:
            loader.kill()
        for server in servers:
            if server.poll() is None:
                server.send_signal(signal.SIGTERM)
        for server in servers:
            await asyncio.to_thread(server.wait, 30)

    wamids = acked(acked_file)
    assert Counter(wamids) == Counter(f"wamid.LOAD{n:08d}" for n in range(COUNT))
    db = Database(pg_database)
    with db.read() as session:
        stored = Counter(
            session.exec(select(Message.external_id).where(Message.direction == "in")).all()
        )
        tickets = session.exec(select(Ticket.number, Ticket.message_count)).all()
        outbox = session.exec(
            select(OutboxItem.state, func.count()).group_by(OutboxItem.state)
        ).all()
        periods = session.exec(
            select(JobRun.period).where(JobRun.job == "triage-sweep").order_by(col(JobRun.period))
        ).all()
    db.dispose()
    assert stored == Counter(wamids)  # every acknowledged message exactly once
    assert len(tickets) == len({number for number, _ in tickets}) == 300
    assert sum(count for _, count in tickets) == COUNT + REPLIES
    assert dict(outbox) == {"sent": REPLIES}
    sent_keys = Counter(body.get("biz_opaque_callback_data") for body in fake.sent)
    assert len(sent_keys) == REPLIES and set(sent_keys.values()) == {1}  # each reply once
    assert len(periods) == len(set(periods)) >= 3  # swept every period it ran, never twice


def _leaders_of(name: str, ports: list[int]) -> int:
    return sum(1 for port in ports if name in ((health(port) or {}).get("leading") or []))


def _ticket_numbers(url: str) -> list[str]:
    db = Database(url)
    with db.read() as session:
        numbers = list(session.exec(select(Ticket.number).order_by(col(Ticket.id))).all())
    db.dispose()
    return numbers
