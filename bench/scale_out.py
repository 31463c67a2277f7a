"""Scale-out on one PostgreSQL: acknowledged WhatsApp webhooks per second with 1, 2 and 3
`main.py serve` processes, and how long the scheduler takes to move when its leader is killed.

    .venv/bin/python bench/scale_out.py --count 20000 --connections 96
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

from whatsapp_webhook import PG_ADMIN, PHONE, REPO, SECRET, free_port, wait_healthy

DATABASE = "kanal_bench_scale"


def fresh_database() -> str:
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {DATABASE}")
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{DATABASE}"


def config_for(folder: Path, url: str) -> Path:
    config = folder / "config.toml"
    config.write_text(
        f'[server]\nleader_check = "1s"\n[database]\nurl = "{url}"\n'
        "[channels.whatsapp]\nenabled = true\n"
        f'verify_token = "v"\napp_secret = "{SECRET}"\naccess_token = "EAAG-bench"\n'
        f'phone_number_id = "{PHONE}"\napi_base = "http://127.0.0.1:9/v23.0"\n',
        encoding="utf-8",
    )
    subprocess.run(
        [sys.executable, str(REPO / "main.py"), "--config", str(config), "db", "upgrade"],
        cwd=folder,
        check=True,
        capture_output=True,
    )
    return config


def start(config: Path, count: int) -> tuple[list[int], list[subprocess.Popen[bytes]]]:
    ports = [free_port() for _ in range(count)]
    servers = [
        subprocess.Popen(
            [
                sys.executable,
                str(REPO / "main.py"),
                "--config",
                str(config),
                "serve",
                "--port",
                str(port),
            ],
            cwd=config.parent,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    for port, server in zip(ports, servers, strict=True):
        wait_healthy(port, server)
    return ports, servers


def stop(servers: list[subprocess.Popen[bytes]]) -> None:
    for server in servers:
        if server.poll() is None:
            server.terminate()
    for server in servers:
        server.wait(timeout=30)


def load(ports: list[int], count: int, connections: int, run: str) -> dict:
    urls = ",".join(f"http://127.0.0.1:{port}/webhooks/whatsapp" for port in ports)
    out = subprocess.run(
        [
            sys.executable,
            str(REPO / "bench" / "webhook_load.py"),
            urls,
            SECRET,
            PHONE,
            str(count),
            str(connections),
            "0",
            run,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def leading(port: int) -> list[str]:
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
            return json.loads(answer.read()).get("leading", [])
    except OSError:
        return []


def takeover_seconds(config: Path) -> float:
    ports, servers = start(config, 2)
    try:
        deadline = time.monotonic() + 30
        while not any("scheduler" in leading(p) for p in ports):
            if time.monotonic() > deadline:
                raise TimeoutError("no process took the scheduler")
            time.sleep(0.05)
        leader = next(i for i, p in enumerate(ports) if "scheduler" in leading(p))
        other = ports[1 - leader]
        killed = time.monotonic()
        servers[leader].send_signal(signal.SIGKILL)
        while "scheduler" not in leading(other):
            if time.monotonic() - killed > 60:
                raise TimeoutError("the scheduler did not move")
            time.sleep(0.02)
        return time.monotonic() - killed
    finally:
        stop(servers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20000)
    parser.add_argument("--connections", type=int, default=96)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for processes in (1, 2, 3):
            config = config_for(Path(tmp), fresh_database())
            ports, servers = start(config, processes)
            try:
                load(ports, 500, args.connections, "warm")  # every reporter's first ticket
                figures = load(ports, args.count, args.connections, f"p{processes}")
            finally:
                stop(servers)
            print(
                f"{processes} process(es) on PostgreSQL  {figures['per_second']:>7.0f} acked/s"
                f"   p50 {figures['p50_ms']:>7.2f} ms   p99 {figures['p99_ms']:>7.2f} ms"
                f"   ({figures['acknowledged']} acked, {figures['failed']} failed)"
            )
        config = config_for(Path(tmp), fresh_database())
        print(
            f"scheduler takeover after SIGKILL of its leader: {takeover_seconds(config):.2f} s"
            " (leader_check 1s)"
        )


if __name__ == "__main__":
    main()
