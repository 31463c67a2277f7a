"""How many tickets are in each status, kept by the database as tickets are written.

The queue shows a count on every status tab; counting a million tickets on each page load
reads a whole index (80 ms on SQLite at 1,000,000). Triggers on `tickets` keep one row per
status in `ticket_status_counts` instead, in the same transaction as every insert, change of
status or delete, whoever writes (the intake's bulk insert, an action, a sweep).
"""

from __future__ import annotations

from sqlalchemy import DDL, MetaData, event

_SQLITE = [
    "CREATE TRIGGER IF NOT EXISTS tickets_count_insert AFTER INSERT ON tickets BEGIN"
    " INSERT INTO ticket_status_counts (status, tickets) VALUES (new.status, 1)"
    " ON CONFLICT (status) DO UPDATE SET tickets = tickets + 1; END",
    "CREATE TRIGGER IF NOT EXISTS tickets_count_update AFTER UPDATE OF status ON tickets"
    " WHEN old.status <> new.status BEGIN"
    " UPDATE ticket_status_counts SET tickets = tickets - 1 WHERE status = old.status;"
    " INSERT INTO ticket_status_counts (status, tickets) VALUES (new.status, 1)"
    " ON CONFLICT (status) DO UPDATE SET tickets = tickets + 1; END",
    "CREATE TRIGGER IF NOT EXISTS tickets_count_delete AFTER DELETE ON tickets BEGIN"
    " UPDATE ticket_status_counts SET tickets = tickets - 1 WHERE status = old.status; END",
]
_POSTGRESQL = [
    """CREATE OR REPLACE FUNCTION count_ticket_status() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.status = NEW.status THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE ticket_status_counts SET tickets = tickets - 1 WHERE status = OLD.status;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        INSERT INTO ticket_status_counts (status, tickets) VALUES (NEW.status, 1)
        ON CONFLICT (status) DO UPDATE SET tickets = ticket_status_counts.tickets + 1;
    END IF;
    RETURN NULL;
END
$$""",
    "CREATE OR REPLACE TRIGGER tickets_count AFTER INSERT OR DELETE OR UPDATE OF status ON tickets"
    " FOR EACH ROW EXECUTE FUNCTION count_ticket_status()",
]
BACKFILL = (
    "INSERT INTO ticket_status_counts (status, tickets)"
    " SELECT status, count(*) FROM tickets GROUP BY status"
)


def create_statements(dialect: str) -> list[str]:
    return _SQLITE if dialect == "sqlite" else _POSTGRESQL


def drop_statements(dialect: str) -> list[str]:
    if dialect == "sqlite":
        kinds = ("insert", "update", "delete")
        return [f"DROP TRIGGER IF EXISTS tickets_count_{kind}" for kind in kinds]
    return [
        "DROP TRIGGER IF EXISTS tickets_count ON tickets",
        "DROP FUNCTION IF EXISTS count_ticket_status()",
    ]


def attach(metadata: MetaData) -> None:
    """Make the triggers whenever `metadata.create_all` makes the tables."""
    for dialect in ("sqlite", "postgresql"):
        for statement in create_statements(dialect):
            event.listen(metadata, "after_create", DDL(statement).execute_if(dialect=dialect))
