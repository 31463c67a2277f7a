"""Statements at the driver's speed, for the intake writer's group commit.

SQLAlchemy's executemany runs every value of every row through its parameter machinery in
Python, which was half of a group commit's time. Here each column's bind processor is looked up
once per dialect and rows (NamedTuples, store/rows.py) reach the driver as the tuples they are:
on PostgreSQL as one `INSERT ... SELECT FROM unnest(...)` with one array parameter per column
(one statement text, so psycopg prepares it once; arrays go in binary (%b), which spares
psycopg quoting every element); on SQLite as an executemany of one INSERT, whose ids follow
from the table's largest id before and after it. `rows` does the same for the batch's lookups.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import Any, Generic, NamedTuple, TypeVar

from sqlalchemy import JSON, Connection, Table

Processor = Callable[[Any], Any]
Row = TypeVar("Row", bound=NamedTuple)  # one table's row; its fields are the columns


class BulkInsert(Generic[Row]):
    """Inserts rows of one NamedTuple type, whose fields name the columns; `ids` answers their
    ids in the rows' order.

    `key` names columns unique among the rows, by which PostgreSQL's returned ids are paired
    with their rows; without one they are paired in id order, the order unnest produced them.
    """

    def __init__(self, table: Table, row: type[Row], key: Sequence[str] = ()) -> None:
        self.table = table
        self.columns: tuple[str, ...] = row._fields
        self.key = tuple(self.columns.index(name) for name in key)
        self._processors: dict[str, list[tuple[int, Processor]]] = {}
        self._statements: dict[str, str] = {}

    def ids(self, conn: Connection, rows: Sequence[Row]) -> list[int]:
        if not rows:
            return []
        if conn.dialect.name == "postgresql":
            return self._postgresql(conn, rows)
        return self._sqlite(conn, rows)

    def _columns(self, conn: Connection, rows: Sequence[tuple[Any, ...]]) -> list[list[Any]]:
        """The rows' values column by column, as the driver takes them."""
        columns = [list(values) for values in zip(*rows, strict=True)]
        for index, process in self._processors_for(conn):
            columns[index] = _each(process, columns[index])
        return columns

    def _postgresql(self, conn: Connection, rows: Sequence[tuple[Any, ...]]) -> list[int]:
        arrays = self._columns(conn, rows)
        statement = self._statement(conn, self._unnest_sql)
        returned = conn.exec_driver_sql(statement, tuple(arrays)).all()
        if len(returned) != len(rows):
            raise RuntimeError(f"{self.table.name}: {len(returned)} ids for {len(rows)} rows")
        if not self.key:
            # Ids come from one sequence in the order unnest produced the rows; RETURNING's
            # own order is not promised.
            return sorted(row[0] for row in returned)
        ids = {tuple(row[1:]): row[0] for row in returned}
        try:
            return [ids[tuple(row[i] for i in self.key)] for row in rows]
        except KeyError as exc:
            # The array cast to VARCHAR(n)[] cuts a longer value instead of refusing it.
            key = exc.args[0]
            raise ValueError(f"{self.table.name}: key {key!r} longer than its column") from None

    def _sqlite(self, conn: Connection, rows: Sequence[tuple[Any, ...]]) -> list[int]:
        if self._processors_for(conn):
            rows = list(zip(*self._columns(conn, rows), strict=True))
        table = self.table.name
        cursor = conn.connection.cursor()
        try:
            before = cursor.execute(f"SELECT max(id) FROM {table}").fetchone()[0] or 0
            cursor.executemany(self._statement(conn, self._values_sql), rows)
            after = cursor.execute(f"SELECT max(id) FROM {table}").fetchone()[0] or 0
        finally:
            cursor.close()
        # The write transaction holds SQLite's only write lock, so the new rows are exactly
        # those above `before`: n distinct ids in a range n wide are that whole range, and
        # SQLite gives each new row the largest id plus one, so in the rows' order.
        if after - before != len(rows):
            raise RuntimeError(f"{table}: {after - before} new ids for {len(rows)} rows")
        return list(range(before + 1, after + 1))

    def _processors_for(self, conn: Connection) -> list[tuple[int, Processor]]:
        dialect = conn.dialect
        if dialect.name not in self._processors:
            found = []
            for index, name in enumerate(self.columns):
                process = _processor(self.table.c[name].type, dialect)
                if process is not None:
                    found.append((index, process))
            self._processors[dialect.name] = found
        return self._processors[dialect.name]

    def _statement(self, conn: Connection, build: Callable[[Connection], str]) -> str:
        name = conn.dialect.name
        if name not in self._statements:
            self._statements[name] = build(conn)
        return self._statements[name]

    def _quoted_columns(self, conn: Connection) -> str:
        quote = conn.dialect.identifier_preparer.quote
        return ", ".join(quote(name) for name in self.columns)

    def _values_sql(self, conn: Connection) -> str:
        marks = ", ".join("?" for _ in self.columns)
        return f"INSERT INTO {self.table.name} ({self._quoted_columns(conn)}) VALUES ({marks})"

    def _unnest_sql(self, conn: Connection) -> str:
        key = [conn.dialect.identifier_preparer.quote(self.columns[i]) for i in self.key]
        arrays = ", ".join(
            f"%b::{_array_type(self.table.c[name].type.compile(dialect=conn.dialect))}"
            for name in self.columns
        )
        return (
            f"INSERT INTO {self.table.name} ({self._quoted_columns(conn)}) "
            f"SELECT * FROM unnest({arrays}) RETURNING {', '.join(('id', *key))}"
        )


def _each(process: Processor, values: list[Any]) -> list[Any]:
    """`process` over `values`; a batch's rows share their times, so a repeat is done once."""
    out = []
    last = last_out = None
    for value in values:
        if value is None:
            out.append(None)
        elif value is not last:
            last, last_out = value, process(value)
            out.append(last_out)
        else:
            out.append(last_out)
    return out


def _array_type(column_type: str) -> str:
    # JSON values arrive as text (their bind processor serialises them); PostgreSQL casts
    # text[] to json[] element by element.
    if column_type in ("JSON", "JSONB"):
        return f"text[]::{column_type}[]"
    return f"{column_type}[]"


def rows(conn: Connection, template: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Runs `template` on the driver's own cursor inside `conn`'s transaction.

    The template says `{p}` for one parameter and `{among}` for membership in one list-valued
    parameter (give it through `listed`): `= ANY(%b)` on PostgreSQL, a `json_each` of one JSON
    array on SQLite. Either way the statement text does not change with the list's length.
    Values go in and come out as the driver knows them: no datetimes, no JSON.
    """
    cursor = conn.connection.cursor()
    try:
        cursor.execute(_dialect_sql(conn.dialect.name, template), params)
        return cursor.fetchall() if cursor.description else []
    finally:
        cursor.close()


def listed(conn: Connection, values: Iterable[Any]) -> Any:
    """A list as the one parameter of `{among}`."""
    if conn.dialect.name == "postgresql":
        return list(values)
    return json.dumps(list(values))


@lru_cache(maxsize=256)
def _dialect_sql(dialect: str, template: str) -> str:
    if dialect == "postgresql":
        return template.format(p="%s", among="= ANY(%b)")
    return template.format(p="?", among="IN (SELECT value FROM json_each(?))")


def bound(conn: Connection, column: Any, value: Any) -> Any:
    """`value` as SQLAlchemy would hand it to the driver for `column`."""
    process = _processor(column.type, conn.dialect)
    return value if process is None or value is None else process(value)


def _processor(column_type: Any, dialect: Any) -> Processor | None:
    """What SQLAlchemy would do to a value for the driver: the dialect's own form (SQLite keeps
    times as text in one fixed format, which comparisons between them rely on)."""
    if dialect.name == "postgresql" and isinstance(column_type, JSON):
        return column_type.bind_processor(dialect)  # text, cast to json in the statement
    return column_type.dialect_impl(dialect).bind_processor(dialect)
