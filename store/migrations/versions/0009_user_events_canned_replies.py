"""user_events: the audit trail of staff accounts (added, role or OPD changed, disabled,
enabled, password reset, unlocked), written by the users page; canned_replies: the canned
replies admins write on the inbox's page

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 18:45:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import store.models

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A database whose tables were made from the models (Database.create_schema) at 0004 has them.
    existing = sa.inspect(op.get_bind())
    if not existing.has_table("canned_replies"):
        op.create_table(
            "canned_replies",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
            sa.Column("text", sa.JSON(), nullable=False),
            sa.Column("forms", sa.JSON(), nullable=False),
            sa.Column("updated_by", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
            sa.Column("updated_at", store.models.UTCDateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
    if existing.has_table("user_events"):
        return
    op.create_table(
        "user_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("username", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("user_events", schema=None) as batch_op:
        batch_op.create_index("ix_user_events_username", ["username", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("user_events", schema=None) as batch_op:
        batch_op.drop_index("ix_user_events_username")
    op.drop_table("user_events")
    op.drop_table("canned_replies")
