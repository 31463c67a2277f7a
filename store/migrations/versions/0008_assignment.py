"""tickets.assignee_id, assigned_at: an operator takes a ticket, others see who holds it

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 18:40:00.000000
"""

from alembic import op
import sqlalchemy as sa
import store.models


revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("assignee_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("assigned_at", store.models.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_foreign_key(
            "fk_tickets_assignee_id_users", "users", ["assignee_id"], ["id"]
        )
        batch_op.create_index("ix_tickets_assignee_status", ["assignee_id", "status"])


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_tickets_assignee_status")
        batch_op.drop_constraint("fk_tickets_assignee_id_users", type_="foreignkey")
        batch_op.drop_column("assigned_at")
        batch_op.drop_column("assignee_id")
