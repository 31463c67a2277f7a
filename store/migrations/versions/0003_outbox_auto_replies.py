"""outbox rows without a message: automatic answers such as the Telegram /start greeting

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06 15:15:00

A greeting belongs to no ticket, so it has no message row; it is queued in the outbox with its
text and recipient in the payload, in the transaction that stores the /start update.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.alter_column("message_id", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM outbox WHERE message_id IS NULL")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.alter_column("message_id", existing_type=sa.Integer(), nullable=False)
