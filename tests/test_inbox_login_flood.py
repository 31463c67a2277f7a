"""A flooded sign-in page does not slow the webhooks: a real `main.py serve` process, sixteen
concurrent /login posters for a few seconds, a WhatsApp webhook's latency measured meanwhile
against the same without the flood; on SQLite and PostgreSQL.

Before the password check left the write transaction and got its own small pool, the same flood
took webhook p95 from 134 ms to 6.5 s. The figures are printed (run with -s to see them).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from load_whatsapp import text_webhook

from fake_whatsapp_cloud import FakeWhatsAppCloud
from fake_whatsapp_webhooks import signature, webhook_bytes
from processes import serve, wait_healthy
from support.command_line import run_main
from support.local_server import free_port

pytestmark = pytest.mark.empty_database  # Alembic builds the schema itself

SECRET = "flood-app-secret"
PHONE = "106540352242922"
POSTERS = 16
MAX_FLOOD_SECONDS = 60  # the flood lasts while the probe runs (a few seconds); never longer
PROBES = 40
# Generous for a loaded 2-core CI machine, and still a fifth of what the flood used to cost.
P95_BOUND = 1.5
HERE = Path(__file__).resolve().parent


@pytest.fixture
async def fake() -> AsyncIterator[FakeWhatsAppCloud]:
    server = await FakeWhatsAppCloud().start()
    yield server
    await server.stop()


@pytest.fixture
async def server(database_url: str, tmp_path: Path, fake: FakeWhatsAppCloud) -> AsyncIterator[str]:
    config = tmp_path / "config.toml"
    config.write_text(
        f'data_dir = "{tmp_path / "data"}"\n'
        # The posters pretend to come from many addresses through a proxy we trust, so that
        # only the pool, not the per-address window, stands between them and the CPU.
        '[server]\ntrusted_proxies = ["127.0.0.1"]\n'
        f'[database]\nurl = "{database_url}"\n'
        "[channels.whatsapp]\nenabled = true\n"
        f'verify_token = "v"\napp_secret = "{SECRET}"\naccess_token = "{fake.access_token}"\n'
        f'phone_number_id = "{PHONE}"\napi_base = "{fake.api_base}"\n',
        encoding="utf-8",
    )
    for args in (
        ("db", "upgrade"),
        ("user", "add", "siti", "--role", "operator", "--password-stdin"),
    ):
        done = run_main(config, *args, stdin="kata-sandi-siti\n")  # in-process: the setup
        assert done.returncode == 0, done.stderr
    port = free_port()
    process = serve(config, port, tmp_path / "serve.log")
    try:
        await asyncio.to_thread(wait_healthy, port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        await asyncio.to_thread(process.wait, 30)


async def probe(http: aiohttp.ClientSession, base: str, first: int, count: int) -> list[float]:
    """`count` webhooks one after another; each one's seconds until its 200."""
    seconds = []
    for n in range(first, first + count):
        _, payload = text_webhook(PHONE, n)
        body = webhook_bytes(payload)
        headers = {
            "Content-Type": "application/json",
            "X-Hub-Signature-256": signature(body, SECRET),
        }
        started = time.perf_counter()
        async with http.post(f"{base}/webhooks/whatsapp", data=body, headers=headers) as answer:
            await answer.read()
            assert answer.status == 200
        seconds.append(time.perf_counter() - started)
    return seconds


def p95(seconds: list[float]) -> float:
    return sorted(seconds)[max(0, round(0.95 * len(seconds)) - 1)]


def figures(seconds: list[float]) -> str:
    return f"p50 {statistics.median(seconds) * 1000:.0f} ms, p95 {p95(seconds) * 1000:.0f} ms"


async def flooding(base: str) -> asyncio.subprocess.Process:
    flood = await asyncio.create_subprocess_exec(
        sys.executable,
        str(HERE / "load_login.py"),
        base,
        str(POSTERS),
        str(MAX_FLOOD_SECONDS),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert flood.stdout is not None
    async with asyncio.timeout(60):
        assert (await flood.stdout.readline()).strip() == b"ready"
    return flood


async def test_a_login_flood_leaves_webhook_latency_alone(server: str, database_url: str) -> None:
    async with aiohttp.ClientSession() as http:
        await probe(http, server, 0, 5)  # warm up: connections, the first ticket numbers
        quiet = await probe(http, server, 100, PROBES)
        flood = await flooding(server)
        try:
            await asyncio.sleep(0.5)  # every poster is at it
            flooded = await probe(http, server, 200, PROBES)
        finally:
            assert flood.stdin is not None
            flood.stdin.close()
            output, _ = await asyncio.wait_for(flood.communicate(), 60)
    answers = json.loads(output.decode().strip().splitlines()[-1])
    backend = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    print(
        f"\n{backend}: webhook without flood {figures(quiet)}; "
        f"with {POSTERS} /login posters {figures(flooded)}; flood {answers}"
    )
    assert answers.get("401", 0) >= 10  # passwords were really checked meanwhile
    assert set(answers) <= {"seconds", "401", "429"}
    assert p95(flooded) < P95_BOUND
