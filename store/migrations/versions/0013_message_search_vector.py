"""messages.search_vector: PostgreSQL's search matches and ranks a stored tsvector

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 00:10:00.000000

A word in a few percent of the messages took a second at a million tickets: the planner walks
the messages newest first, and to_tsvector parsed every walked row's text to match it, and the
kept ones again to rank them. The vector is now a stored generated column with the GIN index
on it (store/search.py), so the match and the rank read what was parsed once, on insert.

PostgreSQL only (SQLite's FTS5 tables stay). Adding a STORED generated column rewrites the
whole messages table under an ACCESS EXCLUSIVE lock: intake and the inbox wait for the
upgrade, a one-off, like the index build after it (about 20 s for 600,000 messages on a
shared two-core test machine; the table grew by a third). Chosen over a plain column filled in
batches and kept by a trigger, which takes no long lock but is a trigger on every insert,
a backfill to resume when interrupted, and a column the application could write wrongly; a
generated column cannot be written at all and is never out of step with the text. The old
expression index is dropped first so the rewrite does not rebuild it (one more parse of every
text).
"""

from alembic import op

from store import search

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

# The index as 0007 made it, over the expression.
_EXPRESSION_INDEX = (
    "CREATE INDEX ix_messages_search ON messages USING gin (to_tsvector('indonesian', text))"
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_messages_search")
    op.execute(search.MESSAGE_VECTOR_COLUMN)
    op.execute(search.MESSAGE_VECTOR_INDEX)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_messages_search")
    op.execute("ALTER TABLE messages DROP COLUMN IF EXISTS search_vector")  # no rewrite
    op.execute(_EXPRESSION_INDEX)
