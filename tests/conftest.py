"""Shared fixtures: a real database for every store test, on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import psycopg
import pytest

from store.db import Database
from support.paths import channel_folders
from support.pg_schema import SchemaKeeper
from triage.intake import Intake

# Real servers (tests/servers/): the `dovecot`, `mailbox` and `smtp_server` fixtures, and a
# `private_postgres` for the test that restarts its database.
pytest_plugins = ["servers.dovecot", "servers.smtp", "servers.postgresql"]

# A channel's fakes and helpers sit beside its tests (tests/channels/<name>/fake_*.py); tests in
# other folders import them by name too. The folders are not packages: a tests/channels package
# would shadow the real `channels`.
sys.path[:0] = [str(path) for path in channel_folders() if str(path) not in sys.path]

PG_ADMIN_URL = os.environ.get("KANAL_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus"


def corpus_dir(name: str) -> Path:
    """A folder of ../shared/corpus; skipped when absent, unless CI demands it."""
    folder = CORPUS / name
    if not folder.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"corpus folder {folder} is missing in CI")
        pytest.skip(f"corpus folder {folder} is absent")
    return folder


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """One PostgreSQL database for this test run, dropped at the end."""
    name = f"kanal_test_{os.getpid()}"
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI: {exc}")
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    with admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    host = PG_ADMIN_URL.split("@", 1)[1].split("/", 1)[0]
    user = PG_ADMIN_URL.split("://", 1)[1].split("@", 1)[0]
    yield f"postgresql+psycopg://{user}@{host}/{name}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_schema(pg_database: str) -> SchemaKeeper:
    return SchemaKeeper(pg_database)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database without rows, once on SQLite and once on PostgreSQL. It may already hold
    Kanal's tables (`create_all` on it does nothing then); a test marked `empty_database` gets
    one without any table, as Alembic and `main.py db upgrade` need."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'kanal.db'}"
    keeper: SchemaKeeper = request.getfixturevalue("pg_schema")
    if request.node.get_closest_marker("empty_database"):
        keeper.empty()
    else:
        keeper.with_tables()
    return keeper.url


class FixedClock:
    """A clock the test moves by hand; code under test never reads the real time."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 11, 23, 2, 0, tzinfo=UTC))


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    """A Database with Kanal's schema, on SQLite and on PostgreSQL."""
    database = Database(database_url)
    database.create_schema()
    yield database
    database.dispose()


@pytest.fixture
async def intake(db: Database, clock: FixedClock) -> AsyncIterator[Intake]:
    sink = Intake(db, ticket_prefix="LBP", clock=clock)
    await sink.start()
    yield sink
    await sink.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """A client session for a test that calls a (fake) platform itself, closed after it."""
    async with aiohttp.ClientSession() as session:
        yield session
