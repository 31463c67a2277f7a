"""Many rows into one table at the driver's speed: the intake writer's big inserts.

SQLAlchemy's executemany runs every value of every row through its parameter machinery in
Python, which was half of a group commit's time. Here each column's bind processor is looked up
once per dialect and rows reach the driver as tuples: on PostgreSQL as one
`INSERT ... SELECT FROM unnest(...)` with one array parameter per column (one statement text,
so psycopg prepares it once); on SQLite as an executemany of one INSERT, whose ids are read back
afterwards (the write transaction holds SQLite's only write lock, so they are ours).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Table

Processor = Callable[[Any], Any]


class BulkInsert:
    """Inserts rows given as tuples in `columns`' order; `ids` answers their ids in that order.

    `key` names columns unique among the rows, by which PostgreSQL's returned ids are paired
    with their rows; without one they are paired in id order, the order unnest produced them.
    """

    def __init__(self, table: Table, columns: Sequence[str], key: Sequence[str] = ()) -> None:
        self.table = table
        self.columns = tuple(columns)
        self.key = tuple(self.columns.index(name) for name in key)
        self._processors: dict[str, list[tuple[int, Processor]]] = {}
        self._statements: dict[str, str] = {}

    def ids(self, conn: Connection, rows: Sequence[tuple[Any, ...]]) -> list[int]:
        if not rows:
            return []
        if conn.dialect.name == "postgresql":
            return self._postgresql(conn, rows)
        return self._sqlite(conn, rows)

    def _postgresql(self, conn: Connection, rows: Sequence[tuple[Any, ...]]) -> list[int]:
        arrays = [list(values) for values in zip(*rows, strict=True)]
        for index, process in self._processors_for(conn):
            arrays[index] = [None if v is None else process(v) for v in arrays[index]]
        statement = self._statement(conn, self._unnest_sql)
        returned = conn.exec_driver_sql(statement, tuple(arrays)).all()
        if len(returned) != len(rows):
            raise RuntimeError(f"{self.table.name}: {len(returned)} ids for {len(rows)} rows")
        if not self.key:
            # Ids come from one sequence in the order unnest produced the rows; RETURNING's
            # own order is not promised.
            return sorted(row[0] for row in returned)
        ids = {tuple(row[1:]): row[0] for row in returned}
        return [ids[tuple(row[i] for i in self.key)] for row in rows]

    def _sqlite(self, conn: Connection, rows: Sequence[tuple[Any, ...]]) -> list[int]:
        processors = self._processors_for(conn)
        if processors:
            converted = []
            for row in rows:
                values = list(row)
                for index, process in processors:
                    if values[index] is not None:
                        values[index] = process(values[index])
                converted.append(tuple(values))
            rows = converted
        table = self.table.name
        before = conn.exec_driver_sql(f"SELECT max(id) FROM {table}").scalar() or 0
        conn.exec_driver_sql(self._statement(conn, self._values_sql), list(rows))
        ids = conn.exec_driver_sql(
            f"SELECT id FROM {table} WHERE id > ? ORDER BY id", (before,)
        ).scalars()
        found = list(ids)
        if len(found) != len(rows):
            raise RuntimeError(f"{table}: {len(found)} ids for {len(rows)} rows")
        return found

    def _processors_for(self, conn: Connection) -> list[tuple[int, Processor]]:
        dialect = conn.dialect
        if dialect.name not in self._processors:
            found = []
            for index, name in enumerate(self.columns):
                process = self.table.c[name].type.bind_processor(dialect)
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
            f"%s::{_array_type(self.table.c[name].type.compile(dialect=conn.dialect))}"
            for name in self.columns
        )
        return (
            f"INSERT INTO {self.table.name} ({self._quoted_columns(conn)}) "
            f"SELECT * FROM unnest({arrays}) RETURNING {', '.join(('id', *key))}"
        )


def _array_type(column_type: str) -> str:
    # JSON values arrive as text (their bind processor serialises them); PostgreSQL casts
    # text[] to json[] element by element.
    if column_type in ("JSON", "JSONB"):
        return f"text[]::{column_type}[]"
    return f"{column_type}[]"
