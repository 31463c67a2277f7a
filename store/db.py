"""Engine set-up for SQLite (the default) and PostgreSQL, and the checks that it answers."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from store.models import ALL_TABLES

log = logging.getLogger(__name__)
_SURROGATE = re.compile("[\ud800-\udfff]")


class Database:
    """One engine per process. Every query in Kanal goes through `engine`."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.engine: Engine = _make_engine(url, echo=echo)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except DBAPIError as exc:
            log.warning("database did not answer: %s", exc.__class__.__name__)
            return False

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session in one write transaction, committed on leaving the block."""
        with self.engine.connect().execution_options(kanal_write=True) as conn:
            with conn.begin(), Session(bind=conn, expire_on_commit=False) as session:
                yield session
                session.flush()

    @contextmanager
    def read(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    def create_schema(self) -> None:
        """Create every table directly (tests); production uses `upgrade` (Alembic)."""
        ALL_TABLES.create_all(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"Database({self.engine.url.render_as_string(hide_password=True)!r})"


def _make_engine(url: str, *, echo: bool) -> Engine:
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            echo=echo,
            json_serializer=_to_json,
            connect_args={"timeout": 30, "check_same_thread": False},
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling defers BEGIN; take it over so that a write
        # transaction (Database.write) starts with BEGIN IMMEDIATE and never fails half-way on
        # a lock upgrade, while reads stay concurrent.
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(
        url,
        echo=echo,
        json_serializer=_to_json,
        pool_size=10,
        max_overflow=10,
        pool_pre_ping=True,
        pool_recycle=1800,
        # psycopg prepares a statement after its fifth run, and PostgreSQL may then keep a
        # generic plan made while the tables were nearly empty: a sequential scan of raw_events
        # for every batch's duplicate check, 13 ms each at 10,000 rows. Plan with the values.
        connect_args={"connect_timeout": 5, "options": "-c plan_cache_mode=force_custom_plan"},
    )


def _to_json(value: Any) -> str:
    # Raw platform payloads may hold values JSON has no type for (a datetime a library
    # parsed): keep them as text rather than fail the whole batch.
    text = json.dumps(value, default=str, ensure_ascii=False, separators=(",", ":"))
    if not text.isascii() and _SURROGATE.search(text):
        # A lone surrogate (valid in JSON, not in UTF-8) is kept as its \uXXXX escape: the
        # payload stays as received and the text can be encoded.
        return json.dumps(value, default=str, ensure_ascii=True, separators=(",", ":"))
    return text


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # FULL syncs the WAL on every commit: a committed report survives a power cut.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    immediate = conn.get_execution_options().get("kanal_write", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
