"""ix_tickets_merged_into: closing a ticket finds the tickets merged into it without a walk

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 19:40:00.000000
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_tickets_merged_into", "tickets", ["merged_into"])


def downgrade() -> None:
    op.drop_index("ix_tickets_merged_into", table_name="tickets")
