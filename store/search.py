"""Full-text search in the database's own engine, ranked; ticket and phone numbers match exactly.

SQLite: FTS5 tables (`unicode61`, diacritics removed) over message texts and over reporters'
names and contacts, external-content tables kept in step with `messages` and `reporters` by
triggers, so every writer (the intake's bulk insert, replies, edits) updates them in the same
transaction. PostgreSQL: a stored generated column `messages.search_vector`, the text's
`to_tsvector('indonesian', text)` (its Snowball stemmer: "perbaikan" finds "diperbaiki"), with a
GIN index, so neither the match nor the rank parses a text again; and a GIN index on
`to_tsvector('simple', ...)` for names and contacts. The database itself keeps both current.
`hits(q, dialect)` answers (ticket_id, score) either way.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import DDL, Float, Integer, MetaData, event, text

# Besides the models' tables and indexes: made here on create_all, and by migrations 0007 and
# 0013 (the column); "IF NOT EXISTS" because create_all announces `after_create` on an
# existing schema too.
SQLITE_TABLES = ("message_search", "reporter_search")
POSTGRESQL_INDEXES = ("ix_messages_search", "ix_reporters_search")
POSTGRESQL_COLUMNS = ("search_vector",)  # on messages; not in the model, never loaded or written
EXACT_SCORE = 1e9  # a ticket number or phone number found exactly comes first
NEWEST = 1000  # messages (and reporters) holding the words that are ranked, newest first
RECENT = 300_000  # PostgreSQL: the last messages looked in first (about a year at Pati's size)

_SQLITE = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS message_search USING fts5(text, content='messages',"
    " content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER IF NOT EXISTS message_search_insert AFTER INSERT ON messages BEGIN"
    " INSERT INTO message_search(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER IF NOT EXISTS message_search_delete AFTER DELETE ON messages BEGIN"
    " INSERT INTO message_search(message_search, rowid, text)"
    " VALUES ('delete', old.id, old.text); END",
    "CREATE TRIGGER IF NOT EXISTS message_search_update AFTER UPDATE OF text ON messages BEGIN"
    " INSERT INTO message_search(message_search, rowid, text)"
    " VALUES ('delete', old.id, old.text);"
    " INSERT INTO message_search(rowid, text) VALUES (new.id, new.text); END",
    "CREATE VIRTUAL TABLE IF NOT EXISTS reporter_search USING fts5(display_name, contact,"
    " content='reporters', content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER IF NOT EXISTS reporter_search_insert AFTER INSERT ON reporters BEGIN"
    " INSERT INTO reporter_search(rowid, display_name, contact)"
    " VALUES (new.id, new.display_name, new.contact); END",
    "CREATE TRIGGER IF NOT EXISTS reporter_search_delete AFTER DELETE ON reporters BEGIN"
    " INSERT INTO reporter_search(reporter_search, rowid, display_name, contact)"
    " VALUES ('delete', old.id, old.display_name, old.contact); END",
    "CREATE TRIGGER IF NOT EXISTS reporter_search_update"
    " AFTER UPDATE OF display_name, contact ON reporters"
    " BEGIN INSERT INTO reporter_search(reporter_search, rowid, display_name, contact)"
    " VALUES ('delete', old.id, old.display_name, old.contact);"
    " INSERT INTO reporter_search(rowid, display_name, contact)"
    " VALUES (new.id, new.display_name, new.contact); END",
]
SQLITE_BACKFILL = [
    "INSERT INTO message_search(message_search) VALUES ('rebuild')",
    "INSERT INTO reporter_search(reporter_search) VALUES ('rebuild')",
]
# messages.text is NOT NULL, so the vector is never NULL either.
MESSAGE_VECTOR_COLUMN = (
    "ALTER TABLE messages ADD COLUMN IF NOT EXISTS search_vector tsvector"
    " GENERATED ALWAYS AS (to_tsvector('indonesian', text)) STORED"
)
MESSAGE_VECTOR_INDEX = (
    "CREATE INDEX IF NOT EXISTS ix_messages_search ON messages USING gin (search_vector)"
)
_REPORTER_VECTOR = (
    "to_tsvector('simple', coalesce(display_name, '') || ' ' || coalesce(contact, ''))"
)
_POSTGRESQL = [
    MESSAGE_VECTOR_COLUMN,
    MESSAGE_VECTOR_INDEX,
    f"CREATE INDEX IF NOT EXISTS ix_reporters_search ON reporters USING gin ({_REPORTER_VECTOR})",
]


def create_statements(dialect: str) -> list[str]:
    return _SQLITE if dialect == "sqlite" else _POSTGRESQL


def drop_statements(dialect: str) -> list[str]:
    if dialect == "sqlite":
        # The triggers belong to messages and reporters: dropping the FTS tables leaves them.
        triggers = [f"{t}_{e}" for t in SQLITE_TABLES for e in ("insert", "delete", "update")]
        return [f"DROP TRIGGER IF EXISTS {name}" for name in triggers] + [
            f"DROP TABLE IF EXISTS {name}" for name in SQLITE_TABLES
        ]
    return [f"DROP INDEX IF EXISTS {name}" for name in POSTGRESQL_INDEXES]


def attach(metadata: MetaData) -> None:
    """Build the search tables or indexes whenever `metadata.create_all` builds the schema."""
    for dialect in ("sqlite", "postgresql"):
        for statement in create_statements(dialect):
            event.listen(metadata, "after_create", DDL(statement).execute_if(dialect=dialect))


def outside_models(name: str | None, type_: str, _parents: Any) -> bool:
    """Alembic's include_name: False for what this module makes (and FTS5's shadow tables),
    which the models do not describe."""
    if type_ == "table" and name and name.startswith(SQLITE_TABLES):
        return False
    if type_ == "column" and name in POSTGRESQL_COLUMNS:
        return False
    return not (type_ == "index" and name in POSTGRESQL_INDEXES)


# --- queries ------------------------------------------------------------------------------------

_WORD = re.compile(r"\w+")
_NUMBER = re.compile(r"[A-Za-z]+-\d{4}-\d+")
_PHONE = re.compile(r"\+?[\d\s().-]{8,}")


def phone_forms(q: str) -> list[str]:
    """The forms a phone number is stored in (WhatsApp's 628..., a contact's +628..., a local
    08...), when `q` is one; else nothing."""
    if not _PHONE.fullmatch(q.strip()):
        return []
    digits = re.sub(r"\D", "", q)
    if len(digits) < 8:
        return []
    national = digits[1:] if digits.startswith("0") else digits.removeprefix("62")
    return [f"62{national}", f"+62{national}", f"0{national}"]


def hits(q: str, dialect: str, newest: int = NEWEST, recent_from: int = 0) -> Any:
    """A subquery of (ticket_id, score), one row per ticket found for `q`, higher = better.

    Words are matched in the `newest` messages (and reporters) that hold them, newest first,
    and only those are ranked: a word a fortieth of ten years of reports contain would
    otherwise be ranked in tens of thousands of messages, and the page counted and sorted
    over all of them, on every search. The full-text index hands its matches over in id
    order, so reading the newest few stops early on both databases; what is left out are
    older reports, which more words, a filter or the ticket or phone number find. Ticket and
    phone numbers are matched exactly, whatever their age. PostgreSQL looks among the messages
    after `recent_from` first (see `recent_bound`)."""
    q = q.strip()
    params: dict[str, Any] = {}
    branches: list[str] = []
    words = _WORD.findall(q)
    if words:
        params["newest"] = newest
        if dialect == "sqlite":
            params["fts"] = " ".join(f'"{word}"' for word in words)
            # bm25() is computed inside the FTS query, for the rows its LIMIT lets through.
            branches += [
                "SELECT m.ticket_id AS ticket_id, found.score AS score FROM"
                " (SELECT rowid AS id, -bm25(message_search) AS score FROM message_search"
                "  WHERE message_search MATCH :fts ORDER BY rowid DESC LIMIT :newest) found"
                " JOIN messages m ON m.id = found.id",
                "SELECT t.id AS ticket_id, found.score AS score FROM"
                " (SELECT rowid AS id, -bm25(reporter_search) AS score FROM reporter_search"
                "  WHERE reporter_search MATCH :fts ORDER BY rowid DESC LIMIT :newest) found"
                " JOIN tickets t ON t.reporter_id = found.id",
            ]
        else:
            params["words"] = " ".join(words)
            params["recent_from"] = recent_from
            # The newest matches among the last RECENT messages first; the planner walks
            # that range newest first for a common word, or meets the GIN index and the range
            # in one bitmap for a rarer one. Older messages only if those were too few: then
            # the word is rare (under NEWEST in RECENT messages), so all its older matches are
            # collected through the index (MATERIALIZED: never a walk newest first through
            # years of messages that almost never match) and the newest of them kept. A
            # reporter's name or contact matches few reporters: collected the same way.
            # Match and rank read the stored vector: no message text is parsed again.
            matching = "search_vector @@ plainto_tsquery('indonesian', :words)"
            branches += [
                "SELECT m.ticket_id, ts_rank(m.search_vector, found) AS score FROM"
                " (WITH recent AS (SELECT ticket_id, search_vector FROM messages"
                f"   WHERE {matching} AND id > :recent_from ORDER BY id DESC LIMIT :newest),"
                "  older AS MATERIALIZED (SELECT id, ticket_id, search_vector FROM messages"
                f"   WHERE {matching} AND id <= :recent_from"
                "   AND (SELECT count(*) FROM recent) < :newest)"
                "  SELECT ticket_id, search_vector FROM recent UNION ALL"
                "  (SELECT ticket_id, search_vector FROM older ORDER BY id DESC"
                "   LIMIT :newest - (SELECT count(*) FROM recent))) m,"
                " plainto_tsquery('indonesian', :words) found",
                f"SELECT t.id AS ticket_id, ts_rank({_REPORTER_VECTOR}, found) AS score FROM"
                " (WITH named AS MATERIALIZED (SELECT id, display_name, contact FROM reporters"
                f"   WHERE {_REPORTER_VECTOR} @@ plainto_tsquery('simple', :words))"
                "  SELECT * FROM named ORDER BY id DESC LIMIT :newest) r"
                " JOIN tickets t ON t.reporter_id = r.id,"
                " plainto_tsquery('simple', :words) found",
            ]
    if _NUMBER.fullmatch(q):
        params["number"] = q.upper()
        branches.append(
            f"SELECT id AS ticket_id, {EXACT_SCORE} AS score FROM tickets WHERE number = :number"
        )
    phones = phone_forms(q)
    if phones:
        params.update({f"phone{i}": form for i, form in enumerate(phones)})
        among = ", ".join(f":phone{i}" for i in range(len(phones)))
        branches.append(
            f"SELECT t.id AS ticket_id, {EXACT_SCORE} AS score FROM reporters r"
            " JOIN tickets t ON t.reporter_id = r.id"
            f" WHERE r.sender_id IN ({among}) OR r.contact IN ({among})"
        )
    if not branches:
        branches.append("SELECT id AS ticket_id, 0.0 AS score FROM tickets WHERE 1 = 0")
    union = " UNION ALL ".join(branches)
    statement = text(
        f"SELECT ticket_id, max(score) AS score FROM ({union}) found_rows GROUP BY ticket_id"
    )
    return statement.bindparams(**params).columns(ticket_id=Integer, score=Float).subquery("hits")


def recent_bound(session: Any) -> int:
    """PostgreSQL: the id before the last RECENT messages (0 elsewhere: FTS5 reads its matches
    newest first by itself)."""
    if session.get_bind().dialect.name != "postgresql":
        return 0
    newest = session.execute(text("SELECT id FROM messages ORDER BY id DESC LIMIT 1")).scalar()
    return max(0, (newest or 0) - RECENT)
