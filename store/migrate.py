"""Schema migrations with Alembic, driven from code so no alembic.ini is needed.

Whether the database is behind is read without Alembic (its revision table and the scripts'
`revision` lines), so `serve` on an up-to-date database never loads Alembic and Mako (10 MB
of every server process); Alembic is imported only to upgrade.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "alembic_version"  # Alembic's default, which env.py keeps
_REVISION = re.compile(r"""^(down_revision|revision)\s*(?::[^=]*)?=\s*(?:["']([^"']+)["']|None)""")


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(url), revision)


@cache
def head_revision() -> str:
    """The newest migration: the one revision no other script names as its `down_revision`
    (what Alembic's ScriptDirectory calls the head; a test checks they agree)."""
    revisions, parents = set(), set()
    for script in (MIGRATIONS / "versions").glob("*.py"):
        for line in script.read_text(encoding="utf-8").splitlines():
            if match := _REVISION.match(line):
                kind, value = match.groups()
                if value is not None:
                    (revisions if kind == "revision" else parents).add(value)
    heads = revisions - parents
    if len(heads) != 1:
        raise RuntimeError(f"the migrations in {MIGRATIONS} have {len(heads)} heads: {heads}")
    return heads.pop()


def current_revision(engine: Engine) -> str | None:
    """The revision the database was last migrated to; None for a database never migrated."""
    with engine.connect() as conn:
        if not inspect(conn).has_table(VERSION_TABLE):
            return None
        return conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()


def pending(engine: Engine) -> bool:
    """True when the database is behind the newest migration."""
    return current_revision(engine) != head_revision()
