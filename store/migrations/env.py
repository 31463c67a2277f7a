"""Alembic's entry point: runs migrations on the URL the caller configured."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from store.models import ALL_TABLES
from store.search import outside_models

config = context.config


def run() -> None:
    url = config.get_main_option("sqlalchemy.url")
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=ALL_TABLES,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            include_name=outside_models,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run()
