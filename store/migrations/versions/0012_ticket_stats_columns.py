"""tickets.first_response_at, reopened_by_reporter, checkback_rating and ix_tickets_stats: a
year of statistics read from one index

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 21:00:00.000000

The statistics found each ticket's first response by joining messages and the audit trail, and
the reopens by the reporter by joining the audit trail, and read each ticket's rating out of
its flags: seconds for a year at a million tickets. All three are now kept on the ticket by its
writers (store/stats.py defines them); this fills them in for the tickets already there, a
range of ticket ids at a time, each statement reading messages and events through their
(ticket_id, ...) indexes, and then builds the index that covers every figure.
"""

import sqlalchemy as sa
from alembic import op

import store.models

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

BATCH = 20_000  # ticket ids per statement
_STATS_COLUMNS = [  # store.models.STATS_COLUMNS as of this revision
    "created_at",
    "channel",
    "status",
    "resolution",
    "category",
    "opd",
    "verified_at",
    "reopened_by_reporter",
    "checkback_rating",
    "first_response_at",
    "closed_at",
]

# store/stats.py's definitions over the stored history; UPDATE ... FROM works on SQLite 3.33+
# and PostgreSQL alike.
_FIRST_RESPONSES = """
UPDATE tickets SET first_response_at = firsts.at
FROM (
    SELECT ticket_id, min(at) AS at FROM (
        SELECT ticket_id, sent_at AS at FROM messages
        WHERE ticket_id >= :low AND ticket_id < :high AND direction = 'out'
            AND author IS NOT NULL AND author <> 'system'
        UNION ALL
        SELECT ticket_id, at FROM ticket_events
        WHERE ticket_id >= :low AND ticket_id < :high AND actor <> 'system'
            AND action <> 'merged_from'
    ) AS responses
    GROUP BY ticket_id
) AS firsts
WHERE tickets.id = firsts.ticket_id
"""
_REOPENED_SQL = """
UPDATE tickets SET reopened_by_reporter = :yes
WHERE id >= :low AND id < :high AND id IN (
    SELECT ticket_id FROM ticket_events
    WHERE ticket_id >= :low AND ticket_id < :high AND actor = 'system'
        AND action IN ('reopen', 'not_fixed') AND from_state = 'resolved'
)
"""


_RATING = {  # the check-back's rating, kept in the flags until now
    "sqlite": "CAST(json_extract(flags, '$.checkback_rating') AS INTEGER)",
    "postgresql": "CAST(flags ->> 'checkback_rating' AS INTEGER)",
}
_RATINGS_SQL = """
UPDATE tickets SET checkback_rating = {rating}
WHERE id >= :low AND id < :high AND {rating} IS NOT NULL
"""
_REOPENED = sa.text(_REOPENED_SQL).bindparams(sa.bindparam("yes", type_=sa.Boolean))


def upgrade() -> None:
    op.add_column(
        "tickets",
        sa.Column("first_response_at", store.models.UTCDateTime(timezone=True), nullable=True),
    )
    op.add_column(
        "tickets",
        sa.Column("reopened_by_reporter", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("tickets", sa.Column("checkback_rating", sa.Integer(), nullable=True))
    conn = op.get_bind()
    ratings = sa.text(_RATINGS_SQL.format(rating=_RATING[conn.dialect.name]))
    top = conn.execute(sa.text("SELECT max(id) FROM tickets")).scalar() or 0
    for low in range(0, top + 1, BATCH):
        bounds = {"low": low, "high": low + BATCH}
        conn.execute(sa.text(_FIRST_RESPONSES), bounds)
        conn.execute(_REOPENED, {**bounds, "yes": True})
        conn.execute(ratings, bounds)
    # Made after the filling, once, rather than kept up to date row by row.
    op.create_index("ix_tickets_stats", "tickets", _STATS_COLUMNS)


def downgrade() -> None:
    # Plain DROP COLUMN on both (SQLite 3.35+): a batch copy of tickets would lose its triggers.
    op.drop_index("ix_tickets_stats", table_name="tickets")
    for column in ("checkback_rating", "reopened_by_reporter", "first_response_at"):
        op.execute(f"ALTER TABLE tickets DROP COLUMN {column}")
