"""Shared fixtures: a real database for every store test, on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

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


def _reset_pg_schema(url: str) -> None:
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'kanal.db'}"
    url = request.getfixturevalue("pg_database")
    _reset_pg_schema(url)
    return url
