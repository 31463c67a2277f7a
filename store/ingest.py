"""Set-based reads and writes that intake needs, a few statements per batch, not per message."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    any_,
    bindparam,
    case,
    insert,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from store import bulk
from store.bulk import BulkInsert
from store.flags import TicketFlags, merged
from store.models import (
    Attachment,
    DeliveryReceipt,
    Message,
    PollCursor,
    RawEvent,
    Reporter,
    Ticket,
    TicketCounter,
    TicketEvent,
)
from store.rows import AttachmentRow, EventRow, MessageRow, RawRow, TicketRow
from store.statuses import Status

RAW = RawEvent.__table__
REPORTERS = Reporter.__table__
TICKETS = Ticket.__table__
MESSAGES = Message.__table__
ATTACHMENTS = Attachment.__table__
EVENTS = TicketEvent.__table__
COUNTERS = TicketCounter.__table__
CURSORS = PollCursor.__table__
RECEIPTS = DeliveryReceipt.__table__

# The intake writer's big inserts; each row type's fields are the columns it fills.
RAW_INSERT = BulkInsert(RAW, RawRow, key=("channel", "external_id"))
MESSAGE_INSERT = BulkInsert(MESSAGES, MessageRow, key=("channel", "external_id"))
TICKET_INSERT = BulkInsert(TICKETS, TicketRow, key=("number",))
EVENT_INSERT = BulkInsert(EVENTS, EventRow)
ATTACHMENT_INSERT = BulkInsert(ATTACHMENTS, AttachmentRow)

_CHUNK = 500  # keeps IN lists well under every driver's parameter limit


def _among(conn: Connection, column: Any, values: Sequence[Any]) -> ColumnElement[bool]:
    """`column IN (values)`; on PostgreSQL as `= ANY(array)`, one parameter instead of hundreds
    (psycopg parses long parameter lists on every call, which dominated the batch)."""
    if conn.dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(values)


def _chunks(values: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _by_channel(keys: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = defaultdict(list)
    for channel, value in keys:
        grouped[channel].append(value)
    return grouped


def existing_raw_keys(conn: Connection, keys: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for channel, ids in _by_channel(keys).items():
        rows = bulk.rows(
            conn,
            "SELECT external_id FROM raw_events WHERE channel = {p} AND external_id {among}",
            (channel, bulk.listed(conn, ids)),
        )
        found.update((channel, external_id) for (external_id,) in rows)
    return found


def insert_rows(conn: Connection, table: Any, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(insert(table), rows)


def reporter_ids(
    conn: Connection, identities: dict[tuple[str, str], dict[str, Any]], now: datetime
) -> dict[tuple[str, str], int]:
    """Ids of the reporters with these (channel, sender_id), creating the missing ones and
    keeping the newest display name a platform gave (people change them)."""
    known = _select_reporters(conn, identities.keys())
    missing = [
        {"channel": channel, "sender_id": sender, "created_at": now, **identities[channel, sender]}
        for channel, sender in identities
        if (channel, sender) not in known
    ]
    if missing:
        conn.execute(_insert_ignoring_conflicts(conn, REPORTERS), missing)
        known.update(_select_reporters(conn, [(r["channel"], r["sender_id"]) for r in missing]))
    renamed = [
        {"rid": rid, "name": identities[key]["display_name"], "contact": identities[key]["contact"]}
        for key, (rid, name) in known.items()
        if identities[key].get("display_name") and identities[key]["display_name"] != name
    ]
    if renamed:
        conn.execute(
            update(REPORTERS)
            .where(REPORTERS.c.id == bindparam("rid"))
            .values(display_name=bindparam("name"), contact=bindparam("contact")),
            renamed,
        )
    return {key: rid for key, (rid, _) in known.items()}


def _select_reporters(
    conn: Connection, keys: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], tuple[int, str | None]]:
    found: dict[tuple[str, str], tuple[int, str | None]] = {}
    for channel, senders in _by_channel(keys).items():
        rows = bulk.rows(
            conn,
            "SELECT id, sender_id, display_name FROM reporters"
            " WHERE channel = {p} AND sender_id {among}",
            (channel, bulk.listed(conn, senders)),
        )
        found.update(((channel, sender), (rid, name)) for rid, sender, name in rows)
    return found


def _insert_ignoring_conflicts(conn: Connection, table: Any) -> Any:
    if conn.dialect.name == "postgresql":
        return pg_insert(table).on_conflict_do_nothing()
    return sqlite_insert(table).on_conflict_do_nothing()


def tickets_by_message_refs(
    conn: Connection, channel: str, refs: Sequence[str]
) -> dict[str, tuple[int, str, int, str]]:
    """For each referenced platform id, the (ticket id, status, reporter id, number) of the
    ticket of the message carrying it."""
    found: dict[str, tuple[int, str, int, str]] = {}
    # One query per id column, not one with OR: SQLite answers an OR of two IN lists by
    # walking every message of the channel.
    ticket = (TICKETS.c.id, TICKETS.c.status, TICKETS.c.reporter_id, TICKETS.c.number)
    for column in (MESSAGES.c.external_id, MESSAGES.c.platform_message_id):
        for chunk in _chunks(list(refs)):
            rows = conn.execute(
                select(column, *ticket)
                .join(TICKETS, TICKETS.c.id == MESSAGES.c.ticket_id)
                .where(MESSAGES.c.channel == channel, _among(conn, column, chunk))
            )
            found.update((ref, (*rest,)) for ref, *rest in rows)
    return found


def tickets_by_number(conn: Connection, numbers: Sequence[str]) -> dict[str, tuple[int, str, int]]:
    """For each ticket number, the ticket's (id, status, reporter id)."""
    found: dict[str, tuple[int, str, int]] = {}
    for chunk in _chunks(list(numbers)):
        rows = conn.execute(
            select(TICKETS.c.number, TICKETS.c.id, TICKETS.c.status, TICKETS.c.reporter_id).where(
                _among(conn, TICKETS.c.number, chunk)
            )
        )
        found.update((row.number, (row.id, row.status, row.reporter_id)) for row in rows)
    return found


def add_mentions(conn: Connection, mentions: dict[int, list[str]]) -> None:
    """Add ticket numbers to the `mentions` flag of existing tickets, keeping their other flags.
    Locked on PostgreSQL, as triage's hints are merged in (triage/assess.py)."""
    query = select(TICKETS.c.id, TICKETS.c.flags).where(TICKETS.c.id.in_(sorted(mentions)))
    if conn.dialect.name == "postgresql":
        query = query.order_by(TICKETS.c.id).with_for_update()
    for ticket_id, flags in conn.execute(query).all():
        known = TicketFlags.read(flags).mentions
        named = list(dict.fromkeys([*known, *mentions[ticket_id]]))
        if named != known:
            conn.execute(
                update(TICKETS)
                .where(TICKETS.c.id == ticket_id)
                .values(flags=merged(flags, TicketFlags(mentions=named)))
            )


def open_tickets_of(
    conn: Connection, reporter_ids_: Sequence[int], channel: str, open_states: Sequence[str]
) -> dict[int, int]:
    """Each reporter's most recently active open ticket on the channel."""
    # The channel is checked here, not in SQL: given `channel = ?`, SQLite's planner walks the
    # channel's whole activity index (every ticket the channel ever had) instead of looking up
    # the few reporters by ix_tickets_reporter_status.
    rows = bulk.rows(
        conn,
        "SELECT reporter_id, id, channel FROM tickets WHERE reporter_id {among}"
        " AND status {among} ORDER BY last_activity_at, id",
        (bulk.listed(conn, reporter_ids_), bulk.listed(conn, open_states)),
    )
    return {reporter: ticket for reporter, ticket, on in rows if on == channel}  # last wins


def ticket_states(conn: Connection, ticket_ids: Iterable[int]) -> dict[int, tuple[str, bool]]:
    rows = bulk.rows(
        conn,
        "SELECT id, status, verified_at IS NOT NULL FROM tickets WHERE id {among}",
        (bulk.listed(conn, ticket_ids),),
    )
    return {ticket_id: (status, bool(verified)) for ticket_id, status, verified in rows}


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


def add_messages_to_tickets(conn: Connection, counts: dict[int, int], now: datetime) -> None:
    """Count new messages on their tickets and move their activity time forward: one UPDATE
    per distinct count (almost always just one)."""
    by_count: dict[int, list[int]] = defaultdict(list)
    for ticket_id, added in counts.items():
        by_count[added].append(ticket_id)
    latest = bulk.bound(conn, TICKETS.c.last_activity_at, now)
    for added, ticket_ids in by_count.items():
        bulk.rows(
            conn,
            "UPDATE tickets SET message_count = message_count + {p}, last_activity_at ="
            " CASE WHEN last_activity_at < {p} THEN {p} ELSE last_activity_at END"
            " WHERE id {among}",
            (added, latest, latest, bulk.listed(conn, sorted(ticket_ids))),
        )


def reopen_for_answer(
    conn: Connection, ticket_id: int, status: str, verify_due_at: datetime | None
) -> None:
    conn.execute(
        update(TICKETS)
        .where(TICKETS.c.id == ticket_id)
        .values(
            status=status,
            answered=True,
            clarification_due_at=None,
            verify_due_at=verify_due_at,
        )
    )


def message_ids_by_external(
    conn: Connection, channel: str, external_ids: Sequence[str]
) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in _chunks(list(external_ids)):
        rows = conn.execute(
            select(MESSAGES.c.external_id, MESSAGES.c.id).where(
                MESSAGES.c.channel == channel, _among(conn, MESSAGES.c.external_id, chunk)
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
    statement = update(ATTACHMENTS).where(
        ATTACHMENTS.c.message_id.in_(message_ids), ATTACHMENTS.c.media_ref == media_ref
    )
    if values.get("fetch_state") == "failed":
        # A late failure of a retried download never undoes one that succeeded.
        statement = statement.where(ATTACHMENTS.c.fetch_state != "stored")
    return conn.execute(statement.values(**values)).rowcount


def pending_attachments(conn: Connection, channel: str, account: str, since: datetime) -> list[Any]:
    return list(
        conn.execute(
            select(ATTACHMENTS, MESSAGES.c.external_id)
            .join(MESSAGES, MESSAGES.c.id == ATTACHMENTS.c.message_id)
            .where(
                MESSAGES.c.channel == channel,
                MESSAGES.c.account == account,
                MESSAGES.c.received_at >= since,
                ATTACHMENTS.c.fetch_state == "pending",
                ATTACHMENTS.c.media_ref.is_not(None),
            )
            .order_by(ATTACHMENTS.c.id)
        )
    )


def latest_tickets_of(
    conn: Connection, reporter_ids_: Sequence[int], channel: str
) -> dict[int, tuple[int, str]]:
    """Each reporter's most recently active ticket on the channel, in any state: (id, status)."""
    rows = bulk.rows(
        conn,
        "SELECT reporter_id, id, status, channel FROM tickets WHERE reporter_id {among}"
        " ORDER BY last_activity_at, id",
        (bulk.listed(conn, reporter_ids_),),
    )
    return {reporter: (ticket, status) for reporter, ticket, status, on in rows if on == channel}


def ticket_summaries(conn: Connection, ticket_ids: Iterable[int]) -> dict[int, Any]:
    """What a status answer and the follow-up rules read of each ticket, by id."""
    ids = sorted(set(ticket_ids))
    if not ids:
        return {}
    columns = (
        TICKETS.c.id,
        TICKETS.c.number,
        TICKETS.c.status,
        TICKETS.c.resolution,
        TICKETS.c.closed_at,
        TICKETS.c.opd,
        TICKETS.c.category,
        TICKETS.c.merged_into,
        TICKETS.c.verify_due_at,
        TICKETS.c.clarification_due_at,
        TICKETS.c.opd_due_at,
        TICKETS.c.due_at,
    )
    found = {}
    for chunk in _chunks(ids):
        for row in conn.execute(select(*columns).where(TICKETS.c.id.in_(chunk))):
            found[row.id] = row
    return found


def reopen_for_follow_up(
    conn: Connection, ticket_id: int, key: str, verify_due_at: datetime | None
) -> None:
    """A reporter wrote again soon after their ticket was resolved or closed: back to the
    operators, as the operators' own reopen does (triage/actions.py), holding the open key."""
    _reopened(
        conn,
        ticket_id,
        key,
        status="new",
        merged_into=None,
        opd_due_at=None,
        verify_due_at=verify_due_at,
    )


def spam_marked(conn: Connection, reporter_ids_: Sequence[int]) -> set[int]:
    """The reporters among these an operator marked as spam."""
    if not reporter_ids_:
        return set()
    rows = bulk.rows(
        conn,
        "SELECT id FROM reporters WHERE id {among} AND spam_marked_at IS NOT NULL",
        (bulk.listed(conn, reporter_ids_),),
    )
    return {reporter for (reporter,) in rows}


def close_at_once(
    conn: Connection, ticket_ids: Sequence[int], now: datetime, *, resolution: str
) -> None:
    """Tickets just opened that close at once (a sender marked as spam), off every clock."""
    for chunk in _chunks(list(ticket_ids)):
        conn.execute(
            update(TICKETS)
            .where(TICKETS.c.id.in_(chunk))
            .values(
                status=Status.CLOSED.value,
                resolution=resolution,
                closed_at=now,
                verify_due_at=None,
                open_key=None,
            )
        )


def insert_returning_ids(conn: Connection, table: Any, rows: list[dict[str, Any]]) -> list[int]:
    """Insert `rows` and return their ids in the order given."""
    if not rows:
        return []
    result = conn.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows)
    return [row[0] for row in result]


def reopen_to_opd(
    conn: Connection, ticket_id: int, key: str, opd_due_at: datetime, due_at: datetime | None
) -> None:
    """The reporter says a resolved ticket is not fixed: back to the OPD that had it."""
    _reopened(conn, ticket_id, key, status="forwarded", opd_due_at=opd_due_at, due_at=due_at)


def _reopened(conn: Connection, ticket_id: int, key: str, **state: Any) -> None:
    """Open again on the reporter's word: not finished, the reporter answered, the open key
    held; `state` says whose turn it is. A ticket that was resolved is marked reopened by its
    reporter, for the statistics (the right-hand side reads the row before the update)."""
    was_resolved = case(
        (TICKETS.c.status == "resolved", true()), else_=TICKETS.c.reopened_by_reporter
    )
    conn.execute(
        update(TICKETS)
        .where(TICKETS.c.id == ticket_id)
        .values(
            resolution=None,
            closed_at=None,
            answered=True,
            open_key=key,
            reopened_by_reporter=was_resolved,
            **state,
        )
    )


def merge_flags(conn: Connection, ticket_id: int, change: Any, **columns: Any) -> None:
    """Write `change`'s keys over one ticket's flags, keeping the others (locked on PostgreSQL);
    `columns` are set in the same update (a rating the statistics read from its column)."""
    query = select(TICKETS.c.flags).where(TICKETS.c.id == ticket_id)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    current = conn.execute(query).scalar_one()
    conn.execute(
        update(TICKETS)
        .where(TICKETS.c.id == ticket_id)
        .values(flags=merged(current, change), **columns)
    )
