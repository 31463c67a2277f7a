"""The PostgreSQL test database between tests: emptied of rows when it holds exactly the schema
`create_all` makes, dropped to nothing otherwise.

Creating Kanal's schema costs PostgreSQL a quarter of a second or more, paid by hundreds of tests;
deleting the rows of a handful of tables costs a few milliseconds. A test that changed the schema
(a migration, a downgrade) or needs an empty database (Alembic, `main.py db upgrade`) gets the
schema dropped, as every test did before."""

from __future__ import annotations

import psycopg

from store.db import Database

# Tables, their columns, indexes, triggers and functions in `public`: what `create_all` made.
_SHAPE = """
SELECT md5(coalesce(string_agg(item, ',' ORDER BY item), ''))
FROM (
    SELECT c.relname || ':' || c.relkind::text || ':' || count(a.attnum) AS item
    FROM pg_class c LEFT JOIN pg_attribute a
      ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    WHERE c.relnamespace = 'public'::regnamespace
    GROUP BY c.relname, c.relkind
    UNION ALL
    SELECT 'trigger:' || t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
    WHERE c.relnamespace = 'public'::regnamespace AND NOT t.tgisinternal
    UNION ALL
    SELECT 'function:' || p.proname FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace
) shape
"""


class SchemaKeeper:
    """One per test session: knows the shape of a fresh `create_all` schema on its database."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.plain_url = url.replace("+psycopg", "")
        self._created_shape: str | None = None

    def _shape(self, conn: psycopg.Connection) -> str:
        row = conn.execute(_SHAPE).fetchone()
        return row[0] if row else ""

    def _drop(self, conn: psycopg.Connection) -> None:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")

    def empty(self) -> None:
        """No tables at all, for a test that builds the schema itself (Alembic)."""
        with psycopg.connect(self.plain_url, autocommit=True) as conn:
            self._drop(conn)

    def with_tables(self) -> None:
        """Kanal's tables as `create_all` makes them, without rows, and sequences restarted."""
        with psycopg.connect(self.plain_url, autocommit=True) as conn:
            if self._created_shape is not None and self._shape(conn) == self._created_shape:
                self._delete_rows(conn)
                return
            self._drop(conn)
        database = Database(self.url)
        database.create_schema()
        database.dispose()
        with psycopg.connect(self.plain_url, autocommit=True) as conn:
            self._created_shape = self._shape(conn)

    def _delete_rows(self, conn: psycopg.Connection) -> None:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            ).fetchall()
        ]
        sequences = [
            row[0]
            for row in conn.execute(
                "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'"
            ).fetchall()
        ]
        with conn.transaction():
            # Replica role: no triggers and no foreign-key checks, so the order does not matter
            # and trigger-kept tables (status counts, search) are emptied like the rest.
            conn.execute("SET LOCAL session_replication_role = replica")
            for table in tables:
                conn.execute(f'DELETE FROM "{table}"')
            for sequence in sequences:
                conn.execute(f'ALTER SEQUENCE "{sequence}" RESTART')
