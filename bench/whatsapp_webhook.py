"""Durable WhatsApp webhook ingest against a bare aiohttp handler, from a separate load process.

Starts `main.py serve` (SQLite, then PostgreSQL) and a bare aiohttp server that only reads the
body and answers 200, drives both with signed webhook bodies over many connections, and prints
acknowledged messages per second, p50/p99 latency, the server's peak RSS and the CPU time per
message of the server, its database and the load process; then the latency at a fixed 1,000
messages per second, and how much CPU per message the 0.7x goal leaves the server on this
machine once the load process has its share (all of them share the machine's cores).

    .venv/bin/python bench/whatsapp_webhook.py --count 20000 --connections 64
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

REPO = Path(__file__).resolve().parent.parent
SECRET = "bench-app-secret"
PHONE = "106540352242922"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
# On the event loop `main.py serve` runs by default, so that the two differ only in the handler.
BARE_SERVER = """
import sys
import uvloop
from aiohttp import web
async def handle(request):
    await request.read()
    return web.Response(text="ok")
async def health(request):
    return web.Response(text="ok")
app = web.Application()
app.add_routes([web.post("/webhooks/whatsapp", handle), web.get("/healthz", health)])
web.run_app(
    app,
    host="127.0.0.1",
    port=int(sys.argv[1]),
    print=None,
    access_log=None,
    loop=uvloop.new_event_loop(),
)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("server exited during start-up")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.1)
    raise TimeoutError("server did not start")


def cpu_seconds(pid: int) -> float:
    """User and system CPU a process has used so far, its threads included."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def postgres_cpu_seconds() -> float:
    """CPU used so far by this machine's PostgreSQL processes: the database's share of Kanal's
    work runs there, on the same two cores as Kanal and the load."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "comm").read_text().startswith("postgres"):
                total += cpu_seconds(int(entry.name))
        except OSError:  # ended meanwhile
            continue
    return total


def no_database_cpu() -> float:
    return 0.0  # SQLite runs inside the server process: its CPU is counted there


def load(port: int, count: int, connections: int, rate: float, run: str) -> dict:
    out = subprocess.run(
        [
            sys.executable,
            str(REPO / "bench" / "webhook_load.py"),
            f"http://127.0.0.1:{port}/webhooks/whatsapp",
            SECRET,
            PHONE,
            str(count),
            str(connections),
            str(rate),
            run,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    figures = json.loads(out.stdout)
    figures["load_cpu_us"] = figures["cpu_seconds"] / count * 1e6  # sending only, not signing
    return figures


def line(label: str, figures: dict, rss: float) -> str:
    return (
        f"{label:<36} {figures['per_second']:>6.0f} msg/s   p50 {figures['p50_ms']:>7.2f} ms"
        f"   p99 {figures['p99_ms']:>7.2f} ms   peak RSS {rss:>6.1f} MiB"
        f"   CPU/msg server {figures['server_cpu_us']:>4.0f} us,"
        f" database {figures['database_cpu_us']:>4.0f} us, load {figures['load_cpu_us']:>4.0f} us"
        f"   ({figures['acknowledged']} acked, {figures['failed']} failed)"
    )


def kanal_server(folder: Path, url: str, port: int) -> subprocess.Popen[bytes]:
    config = folder / "config.toml"
    config.write_text(
        f'[database]\nurl = "{url}"\n[channels.whatsapp]\nenabled = true\n'
        f'verify_token = "v"\napp_secret = "{SECRET}"\naccess_token = "EAAG-bench"\n'
        f'phone_number_id = "{PHONE}"\napi_base = "http://127.0.0.1:9/v23.0"\n',
        encoding="utf-8",
    )
    if url.startswith("postgresql"):
        subprocess.run(
            [sys.executable, str(REPO / "main.py"), "--config", str(config), "db", "upgrade"],
            cwd=folder,
            check=True,
            capture_output=True,
        )
    return subprocess.Popen(
        [
            sys.executable,
            str(REPO / "main.py"),
            "--config",
            str(config),
            "serve",
            "--port",
            str(port),
        ],
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def measured_load(
    server: subprocess.Popen[bytes], database_cpu: Callable[[], float], port: int, *load_args: Any
) -> dict:
    """One load run, with the server's and the database's CPU time per message sent."""
    before, database_before = cpu_seconds(server.pid), database_cpu()
    figures = load(port, *load_args)
    figures["server_cpu_us"] = (cpu_seconds(server.pid) - before) / load_args[0] * 1e6
    figures["database_cpu_us"] = (database_cpu() - database_before) / load_args[0] * 1e6
    return figures


def measure(
    server: subprocess.Popen[bytes],
    port: int,
    args: argparse.Namespace,
    label: str,
    after_warm_up: Callable[[], None],
    database_cpu: Callable[[], float] = no_database_cpu,
) -> tuple[dict, dict]:
    try:
        wait_healthy(port, server)
        load(port, 500, args.connections, 0, "warm")  # warm-up, not counted
        after_warm_up()
        fast = measured_load(server, database_cpu, port, args.count, args.connections, 0, "fast")
        paced_count = args.rate * args.paced_seconds
        paced = measured_load(
            server, database_cpu, port, paced_count, args.connections * 4, args.rate, "paced"
        )
        rss = peak_rss_mib(server.pid)
        print(line(f"{label}, max rate", fast, rss))
        print(line(f"{label}, {args.rate}/s offered", paced, rss))
        return fast, paced
    finally:
        server.terminate()
        server.wait(timeout=30)


def budget(bare: dict, kanal: dict, goal: float = 0.7) -> str:
    """What the goal leaves Kanal on this machine: at `goal` times the bare handler's rate, the
    cores' CPU time per message less what the load process needs to send it."""
    target = goal * bare["per_second"]
    cores = os.cpu_count() or 1
    per_message = cores / target * 1e6
    load_share = min(bare["load_cpu_us"], kanal["load_cpu_us"])
    used = kanal["server_cpu_us"] + kanal["database_cpu_us"]
    return (
        f"     at {goal}x ({target:.0f} msg/s) {cores} cores give {per_message:.0f} us of CPU per"
        f" message; the load process needs {load_share:.0f}, leaving"
        f" {per_message - load_share:.0f} us for the server and its database"
        f" (the bare handler used {bare['server_cpu_us']:.0f}; Kanal used {used:.0f})"
    )


def nothing() -> None:
    pass


def analyze_bench_database() -> None:
    """Table statistics, as autovacuum keeps them in a running system (its first pass comes a
    minute after start-up, later than these runs): without them PostgreSQL plans the intake's
    lookups for empty tables."""
    with psycopg.connect(PG_ADMIN.replace("/test", "/kanal_bench_wa"), autocommit=True) as conn:
        conn.execute("ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20000)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--paced-seconds", type=int, default=10)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()

    port = free_port()
    bare = subprocess.Popen([sys.executable, "-c", BARE_SERVER, str(port)])
    bare_fast, _ = measure(bare, port, args, "bare aiohttp handler", nothing)
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    for backend in backends:
        with tempfile.TemporaryDirectory() as tmp:
            after_warm_up, database_cpu = nothing, no_database_cpu
            if backend == "sqlite":
                url = f"sqlite:///{Path(tmp) / 'kanal.db'}"
            else:
                with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
                    admin.execute("DROP DATABASE IF EXISTS kanal_bench_wa WITH (FORCE)")
                    admin.execute("CREATE DATABASE kanal_bench_wa")
                url = "postgresql+psycopg://postgres@127.0.0.1:5432/kanal_bench_wa"
                after_warm_up, database_cpu = analyze_bench_database, postgres_cpu_seconds
            port = free_port()
            server = kanal_server(Path(tmp), url, port)
            label = f"Kanal on {backend}"
            fast, paced = measure(server, port, args, label, after_warm_up, database_cpu)
            ratio = fast["per_second"] / bare_fast["per_second"]
            print(
                f"  -> {backend}: {ratio:.2f}x the bare handler's rate (goal >= 0.7x);"
                f" p99 at {args.rate}/s offered {paced['p99_ms']:.0f} ms (goal < 100 ms)"
            )
            print(budget(bare_fast, fast))


if __name__ == "__main__":
    main()
