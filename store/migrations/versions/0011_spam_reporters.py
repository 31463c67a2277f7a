"""reporters.spam_marked_at/_by: an operator marks a sender as spam; ix_tickets_resolution: the
queue's "spam" view counts the tickets closed as spam without reading every closed ticket

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 21:00:00.000000
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel
import store.models


revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reporters", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("spam_marked_at", store.models.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("spam_marked_by", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True)
        )
    op.create_index("ix_tickets_resolution", "tickets", ["resolution"])


def downgrade() -> None:
    op.drop_index("ix_tickets_resolution", table_name="tickets")
    with op.batch_alter_table("reporters", schema=None) as batch_op:
        batch_op.drop_column("spam_marked_by")
        batch_op.drop_column("spam_marked_at")
