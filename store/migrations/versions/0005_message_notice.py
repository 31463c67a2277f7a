"""messages.notice, messages.notice_args: a channel's notice as a code, not words in the text

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 18:10:00

Channels wrote "[Pesan WhatsApp jenis ...]" into a message's text, in Indonesian only. They now
give a code and its values, which the inbox renders in the reader's language. Rows stored before
keep their text as it is; their notice stays empty.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("notice", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True)
        )
        batch_op.add_column(sa.Column("notice_args", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("notice_args")
        batch_op.drop_column("notice")
