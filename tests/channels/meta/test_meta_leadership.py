"""Facebook with its webhook on, in two Kanal processes on one PostgreSQL: both take webhooks,
exactly one polls Graph; when it dies, the other takes the poller over."""

from __future__ import annotations

import asyncio
import signal
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from test_facebook_webhook import SECRET, body_of, signature

from conftest import FixedClock, corpus_dir
from fake_meta_graph import FakeGraph
from fake_meta_graph_seed import FB_PAGE, seed_facebook
from processes import health, kanal_command, serve, wait_healthy
from store.db import Database
from support.local_server import free_port
from support.waiting import until

POLLER = f"poller:facebook:{FB_PAGE}"


@pytest.fixture
async def graph(clock: FixedClock) -> AsyncIterator[FakeGraph]:
    fake = await FakeGraph(clock=clock).start()
    seed_facebook(fake, corpus_dir("facebook"), clock())
    yield fake
    await fake.stop()


def prepare(pg_database: str, tmp_path: Path, graph: FakeGraph) -> Path:
    Database(pg_database).dispose()
    subprocess.run(
        [
            "psql",
            pg_database.replace("+psycopg", ""),
            "-qc",
            "DROP SCHEMA public CASCADE; CREATE SCHEMA public",
        ],
        check=True,
    )
    config = tmp_path / "config.toml"
    config.write_text(
        f'[server]\nleader_check = "1s"\n[database]\nurl = "{pg_database}"\n'
        "[channels.facebook]\nenabled = true\n"
        f'page_id = "{FB_PAGE}"\naccess_token = "{graph.access_token}"\n'
        f'api_base = "{graph.api_base}"\npoll_interval = "1s"\nlookback = "2d"\n'
        f'app_secret = "{SECRET}"\nverify_token = "verify-me"\nrequest_pause = "0s"\n',
        encoding="utf-8",
    )
    done = subprocess.run(
        kanal_command(config, "db", "upgrade"), cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return config


def leaders(ports: list[int]) -> list[int]:
    return [p for p in ports if POLLER in ((health(p) or {}).get("leading") or [])]


async def test_every_process_listens_and_one_polls(
    pg_database: str, tmp_path: Path, graph: FakeGraph
) -> None:
    config = await asyncio.to_thread(prepare, pg_database, tmp_path, graph)
    ports = [free_port(), free_port()]
    logs = [tmp_path / f"server{i}.log" for i in range(2)]
    servers = [serve(config, port, log) for port, log in zip(ports, logs, strict=True)]
    try:
        for port, server in zip(ports, servers, strict=True):
            await asyncio.to_thread(wait_healthy, port, server)
        await until(lambda: len(leaders(ports)) == 1, 30, interval=0.1)
        await until(lambda: graph.count("GET", "conversations") > 0, 30, interval=0.1)
        (leader,) = leaders(ports)
        follower = next(p for p in ports if p != leader)
        await asyncio.sleep(2.5)  # two more leader checks: still one poller
        assert leaders(ports) == [leader]
        started = [log.read_text().count("facebook poller started") for log in logs]
        assert sorted(started) == [0, 1]

        # Both processes take Meta's webhook deliveries, leader or not.
        body = body_of("facebook", "webhook__message_with_photo", graph)
        async with aiohttp.ClientSession() as http:
            for port in (follower, leader):
                async with http.post(
                    f"http://127.0.0.1:{port}/webhooks/facebook",
                    data=body,
                    headers={"X-Hub-Signature-256": signature(body)},
                ) as response:
                    assert response.status == 200, await response.text()

        # The leader dies: the follower takes the poller over.
        servers[ports.index(leader)].send_signal(signal.SIGKILL)
        await asyncio.to_thread(servers[ports.index(leader)].wait, 10)
        await until(lambda: leaders([follower]) == [follower], 30, interval=0.1)
        assert logs[ports.index(follower)].read_text().count("facebook poller started") == 1
    finally:
        for server in servers:
            if server.poll() is None:
                server.send_signal(signal.SIGTERM)
        for server in servers:
            await asyncio.to_thread(server.wait, 30)
