"""users.disabled_at: an account can be disabled (no sign-in, sessions ended, tokens revoked)

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06 15:10:00.000000
"""

from alembic import op
import sqlalchemy as sa
import store.models


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('disabled_at', store.models.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('disabled_at')
