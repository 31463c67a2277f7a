"""Kanal's real server (`main.py serve`) as its own process on the cached history, for the
memory it needs: the bench drives it over HTTP and reads its peak and current resident size
from /proc/<pid>/status, apart from the bench's own client, data and in-process app."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import aiohttp
from history_site import PASSWORD, _sign_in, config_values
from sqlmodel import select

from store.db import Database
from store.models import User
from store.users import add_user, create_token

REPO = Path(__file__).resolve().parent.parent
STAFF = (("bench-operator", "operator"), ("bench-supervisor", "supervisor"))


@dataclass
class Remote:
    """What history.py's paths use of a Site, over TCP to the server process."""

    operator: aiohttp.ClientSession
    supervisor: aiohttp.ClientSession
    token: str
    supervisor_token: str
    pid: int


def memory_mib(pid: int) -> dict[str, float]:
    """The process's peak (VmHWM) and current (VmRSS) resident set, in MiB."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmHWM", "VmRSS"):
            found[key] = int(value.split()[0]) / 1024
    return found


@asynccontextmanager
async def running_server(
    url: str, data_dir: Path, clock: Callable[[], datetime]
) -> AsyncIterator[Remote]:
    """`main.py serve` on `url` (its own clock: the bench's history ends at its generation),
    with the bench's staff signed in."""
    server, base, tokens = await asyncio.to_thread(_start, url, data_dir, clock())
    try:
        await _healthy(base, server)
        async with (
            aiohttp.ClientSession(
                base_url=base, cookie_jar=aiohttp.CookieJar(unsafe=True)
            ) as operator,
            aiohttp.ClientSession(
                base_url=base, cookie_jar=aiohttp.CookieJar(unsafe=True)
            ) as supervisor,
        ):
            await _sign_in(operator, "bench-operator")  # type: ignore[arg-type]
            await _sign_in(supervisor, "bench-supervisor")  # type: ignore[arg-type]
            yield Remote(operator, supervisor, tokens[0], tokens[1], server.pid)
    finally:
        await asyncio.to_thread(_stop, server)


def _start(
    url: str, data_dir: Path, now: datetime
) -> tuple[subprocess.Popen[bytes], str, tuple[str, str]]:
    data_dir = data_dir.resolve()  # the server reads its paths from its config's folder
    data_dir.mkdir(parents=True, exist_ok=True)
    if url.startswith("sqlite:///"):
        url = "sqlite:///" + str(Path(url.removeprefix("sqlite:///")).resolve())
    tokens = _staff(url, now)
    port = _free_port()
    config = data_dir / "server.toml"
    values = config_values(url, data_dir)
    values["server"] = {**values.get("server", {}), "host": "127.0.0.1", "port": port}
    config.write_text(toml_text(values), encoding="utf-8")
    with (data_dir / "server.log").open("ab") as log:
        server = subprocess.Popen(
            [sys.executable, str(REPO / "main.py"), "--config", str(config), "serve"],
            cwd=data_dir,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return server, f"http://127.0.0.1:{port}", tokens


def _stop(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def _staff(url: str, now: datetime) -> tuple[str, str]:
    """The bench's operator and supervisor (made when missing) and a new API token each."""
    db = Database(url)
    with db.write() as session:
        for username, role in STAFF:
            if session.exec(select(User).where(User.username == username)).first() is None:
                add_user(session, username, PASSWORD, role, now=now)
        tokens = tuple(create_token(session, username, now=now) for username, _ in STAFF)
    db.dispose()
    return tokens[0], tokens[1]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def _healthy(base: str, server: subprocess.Popen[bytes], seconds: float = 120) -> None:
    async with aiohttp.ClientSession() as client:
        for _ in range(int(seconds * 10)):
            if server.poll() is not None:
                raise RuntimeError(f"the server exited during start-up ({server.returncode})")
            try:
                async with client.get(f"{base}/healthz") as answer:
                    if answer.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise TimeoutError("the server did not become healthy")


# --- config.toml out of the values the in-process app is given ------------------------------------


def toml_text(values: dict[str, Any]) -> str:
    """`values` as TOML (tables, arrays of tables, strings, numbers, booleans, dates, lists)."""
    return "\n".join(_table([], values)) + "\n"


def _table(path: list[str], values: dict[str, Any]) -> list[str]:
    lines = [f"{_key(k)} = {_value(v)}" for k, v in values.items() if not _nested(v)]
    for k, v in values.items():
        if isinstance(v, dict):
            lines += ["", f"[{_dotted([*path, k])}]", *_table([*path, k], v)]
    for k, v in values.items():
        if isinstance(v, list) and _nested(v):
            for item in v:
                lines += ["", f"[[{_dotted([*path, k])}]]", *_table([*path, k], item)]
    return lines


def _nested(value: Any) -> bool:
    return isinstance(value, dict) or (
        isinstance(value, list) and bool(value) and all(isinstance(i, dict) for i in value)
    )


def _dotted(path: Iterable[str]) -> str:
    return ".".join(_key(p) for p in path)


def _key(key: str) -> str:
    bare = key.replace("_", "").replace("-", "").isalnum() and key.isascii()
    return key if bare else json.dumps(key, ensure_ascii=False)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + "}"
    return json.dumps(str(value), ensure_ascii=False)
