"""learned_models: the suggestion model triage learns from operators' decisions

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 18:30:00

One row per model, replaced whole by the scheduled retrain; every process reads it from here,
so several processes on one PostgreSQL suggest alike.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import store.models

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "learned_models",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("trained_at", store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("examples", sa.Integer(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("learned_models")
