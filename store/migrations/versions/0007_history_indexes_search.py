"""Indexes for ten years of reports, and full-text search in the database's own engine

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 18:20:00

The statistics and the digest filtered on `tickets.created_at`, which had no index; the queue's
finished tickets were sorted whole and every status counted on each page; search was a LIKE
over every message. Adds the indexes, the status counts kept by triggers
(store/status_counts.py) and store/search.py's FTS5 tables (SQLite, filled from the existing
rows) or GIN indexes (PostgreSQL), and what the clean-up (store/retention.py) needs.
"""

import sqlalchemy as sa
from alembic import op

from store import search, status_counts

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_INDEXES = [
    ("ix_tickets_created", "tickets", ["created_at", "id"]),
    ("ix_tickets_status_created", "tickets", ["status", "created_at", "id"]),
    ("ix_tickets_category_created", "tickets", ["category", "created_at"]),
    ("ix_tickets_opd_created", "tickets", ["opd", "created_at"]),
    ("ix_reporters_sender", "reporters", ["sender_id"]),
    ("ix_reporters_contact", "reporters", ["contact"]),
    ("ix_raw_events_received", "raw_events", ["received_at"]),
    ("ix_notifications_created", "notifications", ["created_at"]),
    ("ix_job_runs_started", "job_runs", ["started_at"]),
]
# store.search's PostgreSQL indexes as of this revision: 0013 put the messages' vector in a
# column and indexed that instead.
_POSTGRESQL_SEARCH = [
    "CREATE INDEX IF NOT EXISTS ix_messages_search ON messages"
    " USING gin (to_tsvector('indonesian', text))",
    "CREATE INDEX IF NOT EXISTS ix_reporters_search ON reporters USING gin"
    " (to_tsvector('simple', coalesce(display_name, '') || ' ' || coalesce(contact, '')))",
]


def upgrade() -> None:
    for name, table, columns in _INDEXES:
        op.create_index(name, table, columns)
    op.create_table(
        "ticket_status_counts",
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("tickets", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("status"),
    )
    op.execute(status_counts.BACKFILL)
    op.create_table(
        "retention_marks",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    dialect = op.get_bind().dialect.name
    for statement in status_counts.create_statements(dialect):
        op.execute(statement)
    searching = search.create_statements(dialect) if dialect == "sqlite" else _POSTGRESQL_SEARCH
    for statement in searching:
        op.execute(statement)
    if dialect == "sqlite":
        for statement in search.SQLITE_BACKFILL:
            op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in search.drop_statements(dialect) + status_counts.drop_statements(dialect):
        op.execute(statement)
    op.drop_table("ticket_status_counts")
    op.drop_table("retention_marks")
    for name, table, _columns in reversed(_INDEXES):
        op.drop_index(name, table_name=table)
