"""The rows intake writes in bulk, one NamedTuple per table: its fields are the columns filled.

Built by name where they are made (triage/intake_batch.py) and read as plain tuples by
`store.bulk.BulkInsert`, which takes its column list from the fields, so the two cannot drift.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple


class RawRow(NamedTuple):
    channel: str
    account: str
    external_id: str
    kind: str
    payload: dict[str, Any]
    error: str | None
    received_at: datetime


class MessageRow(NamedTuple):
    ticket_id: int
    direction: str
    channel: str
    account: str
    external_id: str
    sender_id: str
    text: str
    subject: str | None
    latitude: float | None
    longitude: float | None
    location_name: str | None
    location_address: str | None
    reply_to: str | None
    references: list[str]
    forwarded: bool
    parse_error: str | None
    notice: str | None
    notice_args: dict[str, str] | None
    sent_at: datetime
    received_at: datetime
    raw_event_id: int


class TicketRow(NamedTuple):
    number: str
    status: str
    channel: str
    account: str
    reporter_id: int
    summary: str
    created_at: datetime
    last_activity_at: datetime
    verify_due_at: datetime | None
    message_count: int
    answered: bool
    flags: dict[str, Any]
    open_key: str | None


class EventRow(NamedTuple):
    ticket_id: int
    at: datetime
    actor: str
    action: str
    from_state: str | None
    to_state: str | None
    data: dict[str, Any]


class AttachmentRow(NamedTuple):
    message_id: int
    position: int
    kind: str
    mime_type: str | None
    media_ref: str | None
    size: int | None
    file_name: str | None
    caption: str | None
    sha256: str | None
    stored_path: str | None
    fetch_state: str
