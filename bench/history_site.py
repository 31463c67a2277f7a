"""Kanal over a generated history, for bench/history.py and its CI test: the databases (cached
per backend), the running app with signed-in staff, and the operator's paths through it."""

from __future__ import annotations

import asyncio
import gc
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import psycopg
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text
from sqlmodel import select

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from runtime import Runtime, build_runtime  # noqa: E402
from settings import Settings  # noqa: E402
from store import migrate  # noqa: E402
from store.db import Database  # noqa: E402
from store.jobs import claim_run, period_of  # noqa: E402
from store.models import User  # noqa: E402
from store.users import add_user, create_token  # noqa: E402

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
PASSWORD = "rahasia-sekali"
SECRET = "bench-app-secret"
PHONE = "106540352242922"
BASE_REVISION = "0004"  # the generated data is written at this schema; upgrades run on a copy
_CSRF = re.compile(r'name="csrf" value="([^"]*)"')


def config_values(url: str, data_dir: Path) -> dict[str, Any]:
    """config.toml as shipped (categories, OPDs, region), on `url`, with WhatsApp enabled."""
    values = tomllib.loads((REPO / "config.toml").read_text(encoding="utf-8"))
    values["data_dir"] = str(data_dir)
    values["database"] = {"url": url}
    values["channels"] = {
        "whatsapp": {
            "enabled": True,
            "verify_token": "v",
            "app_secret": SECRET,
            "access_token": "EAAG-bench",
            "phone_number_id": PHONE,
            "api_base": "http://127.0.0.1:9/v23.0",
        }
    }
    return values


def categories() -> list[tuple[str, str]]:
    values = tomllib.loads((REPO / "config.toml").read_text(encoding="utf-8"))
    found = []
    for category in values["category"]:
        opd = category.get("opd")
        found.append((category["code"], opd[0] if isinstance(opd, list) else opd))
    return found


# --- databases ----------------------------------------------------------------------------------


def _pg_url(name: str) -> str:
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def _pg(statement: str) -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(statement)


def _pg_exists(name: str) -> bool:
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        return (
            admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            is not None
        )


@dataclass(frozen=True)
class Cached:
    backend: str
    tickets: int
    end: datetime
    url: str  # the working copy's URL


def prepare(backend: str, tickets: int, cache: Path, *, fresh: bool = False) -> Cached:
    """A working copy of the cached history (generated first when missing), upgraded to this
    code's newest migration and analyzed."""
    cache.mkdir(parents=True, exist_ok=True)
    name = f"history-{backend}-{tickets}"
    meta = cache / f"{name}.json"
    if fresh or not meta.exists():
        meta.unlink(missing_ok=True)
        base_url = _base_url(backend, name, cache, create=True)
        started = datetime.now()
        subprocess.run(
            [sys.executable, str(Path(__file__).resolve().parent / "history.py"), "--generate",
             base_url, "--tickets", str(tickets), "--meta", str(meta)],
            check=True,
        )  # fmt: skip
        print(f"  generated {tickets} tickets on {backend} in {datetime.now() - started}")
    end = datetime.fromisoformat(json.loads(meta.read_text())["end"])
    if backend == "sqlite":
        work = cache / f"{name}-work.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{work}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(cache / f"{name}.db", work)
        url = f"sqlite:///{work}"
    else:
        work_name = f"{name.replace('-', '_')}_work_{_cache_key(cache)}"
        _pg(f'DROP DATABASE IF EXISTS "{work_name}" WITH (FORCE)')
        _pg(f'CREATE DATABASE "{work_name}" TEMPLATE "{name.replace("-", "_")}"')
        url = _pg_url(work_name)
    migrate.upgrade(url)
    db = Database(url)
    if backend == "postgresql":
        # An upgrade that rewrote every ticket (0012) leaves the visibility map empty, and
        # index-only reads visit the table until a vacuum: autovacuum's job in service.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM tickets")
    with db.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    db.dispose()
    return Cached(backend, tickets, end, url)


def _cache_key(cache: Path) -> str:
    """PostgreSQL databases a run drops and makes again are named after its cache folder too:
    two runs from two caches (two worktrees) never share one."""
    return hashlib.sha1(str(cache.resolve()).encode()).hexdigest()[:6]


def _base_url(backend: str, name: str, cache: Path, *, create: bool) -> str:
    if backend == "sqlite":
        path = cache / f"{name}.db"
        if create:
            path.unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    else:
        db_name = name.replace("-", "_")
        if create:
            _pg(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
            _pg(f'CREATE DATABASE "{db_name}"')
        url = _pg_url(db_name)
    if create:
        migrate.upgrade(url, BASE_REVISION)
    return url


def empty_database(backend: str, cache: Path) -> str:
    """A new empty database at this code's newest schema, for the webhook's comparison."""
    if backend == "sqlite":
        path = cache / "history-empty.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    else:
        name = f"history_empty_{_cache_key(cache)}"
        _pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        _pg(f'CREATE DATABASE "{name}"')
        url = _pg_url(name)
    migrate.upgrade(url)
    return url


def _clean_up_measured_apart(db: Database, settings: Settings, now: datetime) -> None:
    """The retention clean-up's first pass over a generated decade (minutes of batches) is not
    run by the scheduler during the bench's hours: it would weigh on every path timed, where a
    service has long caught up. `webhook during clean-up` runs that pass itself."""
    every = settings.retention.interval.total_seconds()
    for n in range(6):
        claim_run(db, "retention", period_of(now + timedelta(seconds=n * every), every), now)


async def start_up_jobs_done(db: Database, seconds: float = 300) -> None:
    """Wait until the jobs a server runs at its start have run: the retrain stored its model
    (the longest of them), then a moment for the sweeps. The operator's paths are timed as
    they are the rest of the hour, not while those threads hold the interpreter."""
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        with db.engine.connect() as conn:
            if conn.execute(text("SELECT count(*) FROM learned_models")).scalar():
                break
        await asyncio.sleep(0.5)
    await asyncio.sleep(2)


# --- the running app ----------------------------------------------------------------------------


@dataclass
class Site:
    runtime: Runtime
    operator: TestClient  # signed in through the login form
    supervisor: aiohttp.ClientSession  # the statistics are for managers
    token: str  # the operator's API token
    supervisor_token: str

    async def get(self, who: Any, path: str, **params: str) -> int:
        headers = {"Authorization": f"Bearer {self.token}"} if path.startswith("/api/") else {}
        async with who.get(path, params=params, headers=headers, allow_redirects=False) as resp:
            await resp.read()
            return resp.status


async def _sign_in(client: TestClient, username: str) -> None:
    form = await client.get("/login")
    token = _CSRF.search(await form.text())
    assert token, "the login page has no CSRF token"
    answer = await client.post(
        "/login",
        data={"csrf": token.group(1), "username": username, "password": PASSWORD},
        allow_redirects=False,
    )
    if answer.status != 303:
        raise RuntimeError(f"sign-in of {username} answered {answer.status}")


@asynccontextmanager
async def running_site(url: str, data_dir: Path, clock: Any) -> AsyncIterator[Site]:
    """Kanal on `url` with a signed-in operator, a signed-in supervisor and an API token."""
    settings = Settings(**config_values(url, data_dir))
    db = Database(url)
    with db.write() as session:
        for username, role in (("bench-operator", "operator"), ("bench-supervisor", "supervisor")):
            if session.exec(select(User).where(User.username == username)).first() is None:
                add_user(session, username, PASSWORD, role, now=clock())
        token = create_token(session, "bench-operator", now=clock())
        supervisor_token = create_token(session, "bench-supervisor", now=clock())
    _clean_up_measured_apart(db, settings, clock())
    runtime = build_runtime(settings, data_dir, db, clock=clock)
    app = await runtime.web_app()
    gc.collect()
    gc.freeze()  # as `main.py serve` does once start-up is done
    async with TestClient(TestServer(app)) as operator:
        await _sign_in(operator, "bench-operator")
        async with aiohttp.ClientSession(
            base_url=str(operator.make_url("")), cookie_jar=aiohttp.CookieJar(unsafe=True)
        ) as supervisor:
            await _sign_in(supervisor, "bench-supervisor")  # type: ignore[arg-type]
            yield Site(runtime, operator, supervisor, token, supervisor_token)
