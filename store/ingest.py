"""Set-based reads and writes that intake needs, a few statements per batch, not per message."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, case, insert, literal, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from store.models import (
    Attachment,
    Message,
    PollCursor,
    RawEvent,
    Reporter,
    Ticket,
    TicketCounter,
    TicketEvent,
    UTCDateTime,
)

RAW = RawEvent.__table__
REPORTERS = Reporter.__table__
TICKETS = Ticket.__table__
MESSAGES = Message.__table__
ATTACHMENTS = Attachment.__table__
EVENTS = TicketEvent.__table__
COUNTERS = TicketCounter.__table__
CURSORS = PollCursor.__table__

_CHUNK = 500  # keeps IN lists well under every driver's parameter limit


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def _by_channel(keys: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = defaultdict(list)
    for channel, value in keys:
        grouped[channel].append(value)
    return grouped


def existing_raw_keys(conn: Connection, keys: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for channel, ids in _by_channel(keys).items():
        for chunk in _chunks(ids):
            rows = conn.execute(
                select(RAW.c.external_id).where(
                    RAW.c.channel == channel, RAW.c.external_id.in_(chunk)
                )
            )
            found.update((channel, external_id) for (external_id,) in rows)
    return found


def insert_returning_ids(conn: Connection, table: Any, rows: list[dict[str, Any]]) -> list[int]:
    """Insert many rows in one statement; their ids come back in the order of `rows`."""
    if not rows:
        return []
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return [row.id for row in conn.execute(statement, rows)]


def reporter_ids(
    conn: Connection, identities: dict[tuple[str, str], dict[str, Any]], now: datetime
) -> dict[tuple[str, str], int]:
    """Ids of the reporters with these (channel, sender_id), creating the missing ones."""
    ids = _select_reporters(conn, identities.keys())
    missing = [
        {"channel": channel, "sender_id": sender, "created_at": now, **identities[channel, sender]}
        for channel, sender in identities
        if (channel, sender) not in ids
    ]
    if missing:
        statement = _insert_ignoring_conflicts(conn, REPORTERS)
        conn.execute(statement, missing)
        ids.update(_select_reporters(conn, [(r["channel"], r["sender_id"]) for r in missing]))
    _refresh_reporter_names(conn, identities, ids)
    return ids


def _select_reporters(
    conn: Connection, keys: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], int]:
    found: dict[tuple[str, str], int] = {}
    for channel, senders in _by_channel(keys).items():
        for chunk in _chunks(senders):
            rows = conn.execute(
                select(REPORTERS.c.id, REPORTERS.c.sender_id).where(
                    REPORTERS.c.channel == channel, REPORTERS.c.sender_id.in_(chunk)
                )
            )
            found.update(((channel, row.sender_id), row.id) for row in rows)
    return found


def _refresh_reporter_names(
    conn: Connection,
    identities: dict[tuple[str, str], dict[str, Any]],
    ids: dict[tuple[str, str], int],
) -> None:
    """Keep the newest display name a platform gave; people change them."""
    for key, values in identities.items():
        if values.get("display_name"):
            conn.execute(
                update(REPORTERS)
                .where(
                    REPORTERS.c.id == ids[key],
                    or_(
                        REPORTERS.c.display_name.is_(None),
                        REPORTERS.c.display_name != values["display_name"],
                    ),
                )
                .values(display_name=values["display_name"], contact=values.get("contact"))
            )


def _insert_ignoring_conflicts(conn: Connection, table: Any) -> Any:
    if conn.dialect.name == "postgresql":
        return pg_insert(table).on_conflict_do_nothing()
    return sqlite_insert(table).on_conflict_do_nothing()


def tickets_by_message_refs(
    conn: Connection, channel: str, refs: Sequence[str]
) -> dict[str, tuple[int, str]]:
    """For each referenced platform id, the (ticket id, status) of the message carrying it."""
    found: dict[str, tuple[int, str]] = {}
    for chunk in _chunks(list(refs)):
        rows = conn.execute(
            select(
                MESSAGES.c.external_id,
                MESSAGES.c.platform_message_id,
                TICKETS.c.id,
                TICKETS.c.status,
            )
            .join(TICKETS, TICKETS.c.id == MESSAGES.c.ticket_id)
            .where(
                MESSAGES.c.channel == channel,
                or_(MESSAGES.c.external_id.in_(chunk), MESSAGES.c.platform_message_id.in_(chunk)),
            )
        )
        for row in rows:
            for ref in (row.external_id, row.platform_message_id):
                if ref in chunk:
                    found[ref] = (row.id, row.status)
    return found


def tickets_by_number(conn: Connection, numbers: Sequence[str]) -> dict[str, tuple[int, str]]:
    found: dict[str, tuple[int, str]] = {}
    for chunk in _chunks(list(numbers)):
        rows = conn.execute(
            select(TICKETS.c.number, TICKETS.c.id, TICKETS.c.status).where(
                TICKETS.c.number.in_(chunk)
            )
        )
        found.update((row.number, (row.id, row.status)) for row in rows)
    return found


def open_tickets_of(
    conn: Connection, reporter_ids_: Sequence[int], channel: str, open_states: Sequence[str]
) -> dict[int, int]:
    """Each reporter's most recently active open ticket on the channel."""
    found: dict[int, int] = {}
    for chunk in _chunks(list(reporter_ids_)):
        rows = conn.execute(
            select(TICKETS.c.reporter_id, TICKETS.c.id)
            .where(
                TICKETS.c.reporter_id.in_(chunk),
                TICKETS.c.channel == channel,
                TICKETS.c.status.in_(open_states),
            )
            .order_by(TICKETS.c.last_activity_at, TICKETS.c.id)
        )
        found.update((row.reporter_id, row.id) for row in rows)  # the last one wins
    return found


def ticket_states(conn: Connection, ticket_ids: Iterable[int]) -> dict[int, tuple[str, bool]]:
    found: dict[int, tuple[str, bool]] = {}
    for chunk in _chunks(list(ticket_ids)):
        rows = conn.execute(
            select(TICKETS.c.id, TICKETS.c.status, TICKETS.c.verified_at).where(
                TICKETS.c.id.in_(chunk)
            )
        )
        found.update((row.id, (row.status, row.verified_at is not None)) for row in rows)
    return found


def allocate_numbers(conn: Connection, key: str, count: int) -> range:
    """Reserve `count` consecutive ticket numbers under `key` (prefix and year)."""
    conn.execute(_insert_ignoring_conflicts(conn, COUNTERS), [{"key": key, "last": 0}])
    last = conn.execute(
        update(COUNTERS)
        .where(COUNTERS.c.key == key)
        .values(last=COUNTERS.c.last + count)
        .returning(COUNTERS.c.last)
    ).scalar_one()
    return range(last - count + 1, last + 1)


def insert_rows(conn: Connection, table: Any, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(insert(table), rows)


def touch_ticket(
    conn: Connection, ticket_id: int, *, added: int, last_activity_at: datetime, **values: Any
) -> None:
    latest = literal(last_activity_at, type_=UTCDateTime())
    conn.execute(
        update(TICKETS)
        .where(TICKETS.c.id == ticket_id)
        .values(
            message_count=TICKETS.c.message_count + added,
            last_activity_at=case(
                (TICKETS.c.last_activity_at < latest, latest), else_=TICKETS.c.last_activity_at
            ),
            **values,
        )
    )


def message_ids_by_external(
    conn: Connection, channel: str, external_ids: Sequence[str]
) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in _chunks(list(external_ids)):
        rows = conn.execute(
            select(MESSAGES.c.external_id, MESSAGES.c.id).where(
                MESSAGES.c.channel == channel, MESSAGES.c.external_id.in_(chunk)
            )
        )
        found.update((row.external_id, row.id) for row in rows)
    return found


def update_message(conn: Connection, message_id: int, **values: Any) -> None:
    conn.execute(update(MESSAGES).where(MESSAGES.c.id == message_id).values(**values))


def outbound_by_platform_id(
    conn: Connection, channel: str, platform_id: str
) -> tuple[int, str | None] | None:
    row = conn.execute(
        select(MESSAGES.c.id, MESSAGES.c.delivery_state).where(
            MESSAGES.c.channel == channel,
            MESSAGES.c.direction == "out",
            MESSAGES.c.platform_message_id == platform_id,
        )
    ).first()
    return (row.id, row.delivery_state) if row else None


def save_cursor(
    conn: Connection, channel: str, account: str, name: str, value: str, now: datetime
) -> None:
    key = and_(CURSORS.c.channel == channel, CURSORS.c.account == account, CURSORS.c.name == name)
    changed = conn.execute(update(CURSORS).where(key).values(value=value, updated_at=now))
    if changed.rowcount == 0:
        conn.execute(
            insert(CURSORS),
            [
                {
                    "channel": channel,
                    "account": account,
                    "name": name,
                    "value": value,
                    "updated_at": now,
                }
            ],
        )


def read_cursor(conn: Connection, channel: str, account: str, name: str) -> str | None:
    return conn.execute(
        select(CURSORS.c.value).where(
            CURSORS.c.channel == channel, CURSORS.c.account == account, CURSORS.c.name == name
        )
    ).scalar_one_or_none()


def record_media(
    conn: Connection, channel: str, message_external_id: str, media_ref: str, values: dict
) -> int:
    message_ids = select(MESSAGES.c.id).where(
        MESSAGES.c.channel == channel, MESSAGES.c.external_id == message_external_id
    )
    result = conn.execute(
        update(ATTACHMENTS)
        .where(ATTACHMENTS.c.message_id.in_(message_ids), ATTACHMENTS.c.media_ref == media_ref)
        .values(**values)
    )
    return result.rowcount
