"""opd_due_at only on tickets currently forwarded to their OPD

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 15:10:00

Before this, reopening and verifying left `opd_due_at` set, and an OPD's liaison saw every
ticket with its code and a due time: after resolve, reopen and verify with another OPD's
category, the new OPD saw (and could resolve) a ticket never forwarded to it. The audit trail
says who has each ticket: the OPD of its last `forward`, unless a `reopen` or `verify` came after.
"""

import json

import sqlalchemy as sa
from alembic import op


revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_HANDED_BACK = ("reopen", "verify")


def upgrade() -> None:
    conn = op.get_bind()
    tickets = conn.execute(
        sa.text("SELECT id, opd FROM tickets WHERE opd_due_at IS NOT NULL")
    ).all()
    stale = []
    for ticket_id, opd in tickets:
        events = conn.execute(
            sa.text(
                "SELECT action, data FROM ticket_events WHERE ticket_id = :id"
                " AND action IN ('forward', 'reopen', 'verify') ORDER BY id"
            ),
            {"id": ticket_id},
        ).all()
        holder = None
        for action, data in events:
            if action in _HANDED_BACK:
                holder = None
            else:
                holder = _opd_of(data)
        if holder is None or holder != opd:
            stale.append(ticket_id)
    for ticket_id in stale:
        conn.execute(
            sa.text("UPDATE tickets SET opd_due_at = NULL WHERE id = :id"), {"id": ticket_id}
        )


def _opd_of(data: object) -> str | None:
    if isinstance(data, str):  # SQLite hands JSON back as text
        data = json.loads(data)
    return data.get("opd") if isinstance(data, dict) else None


def downgrade() -> None:
    pass  # the cleared due times were wrong; nothing to restore
