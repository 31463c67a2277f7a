"""The tables Kanal keeps: reporters, tickets, messages, raw events, audit trail, outbox, users,
staff notifications."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Index, Text, TypeDecorator, UniqueConstraint, false
from sqlmodel import Field, SQLModel

from store import search, status_counts
from store.flags import SweepMarkers, TicketFlags


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC and always hands back an aware datetime, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; pass an aware one")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _when(**kwargs: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kwargs)


def _json(**kwargs: Any) -> Any:
    return Field(sa_type=JSON, **kwargs)


def _text(**kwargs: Any) -> Any:
    return Field(sa_type=Text, **kwargs)


class Reporter(SQLModel, table=True):
    """One identity on one channel: a phone number, an email address, a handle."""

    __tablename__ = "reporters"
    __table_args__ = (
        UniqueConstraint("channel", "sender_id", name="uq_reporter_identity"),
        # Search finds a phone number exactly, in either form (migration 0007).
        Index("ix_reporters_sender", "sender_id"),
        Index("ix_reporters_contact", "contact"),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=32)
    sender_id: str = Field(max_length=320)
    display_name: str | None = Field(default=None, max_length=320)
    contact: str | None = Field(default=None, max_length=320)
    created_at: datetime = _when()
    # Marked as spam by an operator (migration 0011): what this sender writes later is kept,
    # on a ticket closed as spam, and never answered automatically (triage/intake_batch.py).
    spam_marked_at: datetime | None = _when(default=None)
    spam_marked_by: str | None = Field(default=None, max_length=120)


STATS_COLUMNS = (
    "created_at",
    "channel",
    "status",
    "resolution",
    "category",
    "opd",
    "verified_at",
    "reopened_by_reporter",
    "checkback_rating",
    "first_response_at",
    "closed_at",
)


class Ticket(SQLModel, table=True):
    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_activity", "last_activity_at", "id"),
        Index("ix_tickets_status_activity", "status", "last_activity_at", "id"),
        Index("ix_tickets_channel_activity", "channel", "last_activity_at", "id"),
        Index("ix_tickets_reporter_status", "reporter_id", "status"),
        # The statistics and the digest read tickets received in a period; the queue lists
        # finished tickets oldest first, by status, category or OPD (migration 0007).
        Index("ix_tickets_created", "created_at", "id"),
        Index("ix_tickets_status_created", "status", "created_at", "id"),
        Index("ix_tickets_category_created", "category", "created_at"),
        Index("ix_tickets_opd_created", "opd", "created_at"),
        Index("ix_tickets_assignee_status", "assignee_id", "status"),  # "Milik saya"
        # The tickets merged into one, told its outcome when it closes (triage/merged_outcome.py).
        Index("ix_tickets_merged_into", "merged_into"),
        Index("ix_tickets_resolution", "resolution"),  # the queue's "spam" view (0011)
        # Everything the statistics count, after the period: a year of them is read from the
        # index alone (store/stats.py; migration 0012).
        Index("ix_tickets_stats", *STATS_COLUMNS),
    )

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=40, unique=True)
    status: str = Field(max_length=20, default="new")
    resolution: str | None = Field(default=None, max_length=40)
    channel: str = Field(max_length=32)
    account: str = Field(max_length=320)
    reporter_id: int = Field(foreign_key="reporters.id")
    summary: str = _text(default="")
    created_at: datetime = _when()
    last_activity_at: datetime = _when()
    message_count: int = 0
    category: str | None = Field(default=None, max_length=40)
    opd: str | None = Field(default=None, max_length=40)
    verified_at: datetime | None = _when(default=None)
    answered: bool = False  # the reporter wrote since the last clarification request
    # The operators' own clock: verify or ask for clarification by then (SP4N-LAPOR!: 3 days).
    verify_due_at: datetime | None = _when(default=None)
    clarification_due_at: datetime | None = _when(default=None)
    opd_due_at: datetime | None = _when(default=None)
    due_at: datetime | None = _when(default=None)
    closed_at: datetime | None = _when(default=None)
    merged_into: str | None = Field(default=None, max_length=40)
    # Triage's hints and the sweeps' markers as flat keys, read through `hints` and `markers`.
    flags: dict[str, Any] = _json(default_factory=dict)
    # "channel:reporter id" while the ticket intake opened is open, NULL once closed: unique, so
    # two processes taking a reporter's first two messages at once cannot open two tickets.
    open_key: str | None = Field(default=None, max_length=80, unique=True)
    # The operator who took the ticket (or was given it): others see it and are asked before
    # acting on it. Kept when the ticket closes, as who handled it.
    assignee_id: int | None = Field(default=None, foreign_key="users.id")
    assigned_at: datetime | None = _when(default=None)
    # What the statistics read of the ticket's history, kept by its writers so that a year of
    # figures is one read of tickets, never a join over messages and the audit trail
    # (store/stats.py defines them; migration 0012 filled them in for older tickets).
    first_response_at: datetime | None = _when(default=None)  # a person's first reply or action
    reopened_by_reporter: bool = Field(
        default=False, sa_column_kwargs={"server_default": false()}
    )  # after it was resolved: a follow-up or the check-back's "belum"
    checkback_rating: int | None = None  # the reporter's 1-5 (also in flags, as Satisfaction)

    @property
    def hints(self) -> TicketFlags:
        return TicketFlags.read(self.flags)

    @property
    def markers(self) -> SweepMarkers:
        return SweepMarkers.read(self.flags)


class TicketStatusCount(SQLModel, table=True):
    """How many tickets have each status, kept by triggers (store/status_counts.py)."""

    __tablename__ = "ticket_status_counts"

    status: str = Field(primary_key=True, max_length=20)
    tickets: int = 0


class RetentionMark(SQLModel, table=True):
    """How far a pass has gone through a table, by id: the clean-up's (store/retention.py) and
    the escalation alerts' ("escalations", notifier/escalations.py)."""

    __tablename__ = "retention_marks"

    name: str = Field(primary_key=True, max_length=40)
    last_id: int = 0


class RawEvent(SQLModel, table=True):
    """Every inbound item exactly as the platform sent it, kept before anything is made of it."""

    __tablename__ = "raw_events"
    __table_args__ = (
        UniqueConstraint("channel", "external_id", name="uq_raw_event"),
        Index("ix_raw_events_received", "received_at"),  # the clean-up's cut-off
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=32)
    account: str = Field(max_length=320)
    external_id: str = Field(max_length=512)
    kind: str = Field(max_length=40)
    payload: dict[str, Any] = _json(default_factory=dict)
    error: str | None = _text(default=None)
    received_at: datetime = _when()


class Message(SQLModel, table=True):
    """A message in a ticket's conversation, from the reporter (`in`) or to them (`out`)."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("channel", "external_id", name="uq_message_external"),
        Index("ix_messages_ticket_time", "ticket_id", "sent_at"),
        Index("ix_messages_platform_id", "channel", "platform_message_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="tickets.id")
    direction: str = Field(max_length=3)
    channel: str = Field(max_length=32)
    account: str = Field(max_length=320)
    # Inbound: the platform's id. Outbound: our own id until sent (platform ids may repeat
    # across an edit, ours never do).
    external_id: str = Field(max_length=512)
    platform_message_id: str | None = Field(default=None, max_length=512)
    sender_id: str | None = Field(default=None, max_length=320)
    author: str | None = Field(default=None, max_length=120)  # the operator who sent it
    text: str = _text(default="")
    subject: str | None = _text(default=None)
    latitude: float | None = None
    longitude: float | None = None
    location_name: str | None = _text(default=None)
    location_address: str | None = _text(default=None)
    reply_to: str | None = Field(default=None, max_length=512)
    references: list[str] = _json(default_factory=list)
    forwarded: bool = False
    parse_error: str | None = _text(default=None)
    # A channel's notice on a message it cannot show, as a code and its values (channels.base.
    # Notice); the inbox renders the words in the reader's language. Older rows have it in text.
    notice: str | None = Field(default=None, max_length=40)
    notice_args: dict[str, str] | None = _json(default=None)
    sent_at: datetime = _when()
    received_at: datetime = _when()
    delivery_state: str | None = Field(default=None, max_length=16)
    error_code: str | None = Field(default=None, max_length=40)
    error_message: str | None = _text(default=None)
    edited_text: str | None = _text(default=None)
    deleted_at: datetime | None = _when(default=None)
    reaction: str | None = Field(default=None, max_length=40)
    raw_event_id: int | None = Field(default=None, foreign_key="raw_events.id")


class Attachment(SQLModel, table=True):
    __tablename__ = "attachments"
    __table_args__ = (Index("ix_attachments_message", "message_id"),)

    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="messages.id")
    position: int = 0
    kind: str = Field(max_length=20)
    mime_type: str | None = Field(default=None, max_length=200)
    media_ref: str | None = _text(default=None)
    size: int | None = None
    file_name: str | None = _text(default=None)
    caption: str | None = _text(default=None)
    sha256: str | None = Field(default=None, max_length=64)
    stored_path: str | None = _text(default=None)
    fetch_state: str = Field(default="pending", max_length=16)  # pending, stored, failed
    fetch_error: str | None = _text(default=None)


class DeliveryReceipt(SQLModel, table=True):
    """A platform's news about a message we sent (sent, delivered, read, failed), kept even
    when it arrives before the outbox has recorded the platform's id for the message."""

    __tablename__ = "delivery_receipts"
    __table_args__ = (Index("ix_delivery_receipts_message", "channel", "platform_message_id"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=32)
    platform_message_id: str = Field(max_length=512)
    state: str = Field(max_length=16)
    at: datetime = _when()
    error_code: str | None = Field(default=None, max_length=40)
    error_message: str | None = _text(default=None)
    raw_event_id: int | None = Field(default=None, foreign_key="raw_events.id")


class TicketEvent(SQLModel, table=True):
    """The audit trail: every transition and note, with who and when."""

    __tablename__ = "ticket_events"
    __table_args__ = (
        Index("ix_ticket_events_ticket", "ticket_id", "id"),
        Index("ix_ticket_events_action", "action", "id"),  # the notifier's escalation sweep
    )

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="tickets.id")
    at: datetime = _when()
    actor: str = Field(max_length=120)
    action: str = Field(max_length=40)
    from_state: str | None = Field(default=None, max_length=20)
    to_state: str | None = Field(default=None, max_length=20)
    note: str | None = _text(default=None)
    data: dict[str, Any] = _json(default_factory=dict)


class TicketCounter(SQLModel, table=True):
    """The last number given per prefix and year, so numbers read LBP-2026-00042."""

    __tablename__ = "ticket_counters"

    key: str = Field(primary_key=True, max_length=40)
    last: int = 0


class JobRun(SQLModel, table=True):
    """A scheduled job's run for one period: the key makes it run once per period, however
    many processes fire it."""

    __tablename__ = "job_runs"
    __table_args__ = (Index("ix_job_runs_started", "started_at"),)  # the clean-up's cut-off

    job: str = Field(primary_key=True, max_length=64)
    period: str = Field(primary_key=True, max_length=40)
    started_at: datetime = _when()


class PollCursor(SQLModel, table=True):
    __tablename__ = "poll_cursors"

    channel: str = Field(primary_key=True, max_length=32)
    account: str = Field(primary_key=True, max_length=320)
    name: str = Field(primary_key=True, max_length=64)
    value: str = _text()
    updated_at: datetime = _when()


class OutboxItem(SQLModel, table=True):
    """A message waiting to be sent; written in the same transaction as the action behind it."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "state", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    # None for an automatic answer outside any ticket (the /start greeting): its recipient,
    # account and text are in `payload`.
    message_id: int | None = Field(default=None, foreign_key="messages.id")
    channel: str = Field(max_length=32)
    idempotency_key: str = Field(max_length=120, unique=True)
    payload: dict[str, Any] = _json(default_factory=dict)
    state: str = Field(default="pending", max_length=16)  # pending, sending, sent, failed
    attempts: int = 0
    next_attempt_at: datetime = _when()
    last_error: str | None = _text(default=None)
    error_code: str | None = Field(default=None, max_length=40)
    created_at: datetime = _when()
    sent_at: datetime | None = _when(default=None)


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=120, unique=True)
    password_hash: str = _text()
    role: str = Field(max_length=20)  # operator, supervisor, admin, opd
    opd: str | None = Field(default=None, max_length=40)
    locale: str = Field(default="id", max_length=5)
    failed_logins: int = 0
    locked_until: datetime | None = _when(default=None)
    created_at: datetime = _when()
    # Set by `user disable`: no sign-in, no session, no token works for the account any more.
    disabled_at: datetime | None = _when(default=None)


class UserEvent(SQLModel, table=True):
    """The audit trail of staff accounts: who added, changed, disabled, enabled or reset whom."""

    __tablename__ = "user_events"
    __table_args__ = (Index("ix_user_events_username", "username", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _when()
    actor: str = Field(max_length=120)
    username: str = Field(max_length=120)
    action: str = Field(max_length=40)  # added, changed, disabled, enabled, password_reset, ...
    data: dict[str, Any] = _json(default_factory=dict)


class CannedReplyRow(SQLModel, table=True):
    """A canned reply an admin wrote on the inbox's page (config.toml holds the others)."""

    __tablename__ = "canned_replies"

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=120)
    text: dict[str, str] = _json(default_factory=dict)  # per language
    forms: list[str] = _json(default_factory=list)
    updated_by: str = Field(max_length=120)
    updated_at: datetime = _when()


class ApiToken(SQLModel, table=True):
    """An API token; only the SHA-256 of the token is kept."""

    __tablename__ = "api_tokens"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id")
    name: str = Field(max_length=120)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = _when()
    last_used_at: datetime | None = _when(default=None)
    revoked_at: datetime | None = _when(default=None)


class WebSession(SQLModel, table=True):
    """A signed-in browser: the cookie holds a random token, the table only its SHA-256."""

    __tablename__ = "web_sessions"
    __table_args__ = (Index("ix_web_sessions_user", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="users.id")
    csrf_token: str = Field(max_length=64)  # the synchronizer token every form carries
    created_at: datetime = _when()
    last_seen_at: datetime = _when()
    expires_at: datetime = _when()


class Notification(SQLModel, table=True):
    """A digest or alert for one staff recipient on one channel (email, telegram), rendered
    when made and sent by the notifier with retries; `key` makes each one exist once."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_due", "state", "next_attempt_at"),
        Index("ix_notifications_created", "created_at"),  # the clean-up's cut-off
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, unique=True)
    kind: str = Field(max_length=32)  # digest, opd_overdue, overall_overdue, channel_down, ...
    recipient: str = Field(max_length=120)
    channel: str = Field(max_length=16)
    address: str = Field(max_length=320)
    subject: str = _text(default="")
    payload: dict[str, Any] = _json(default_factory=dict)  # text, html, telegram, chart_png
    state: str = Field(default="pending", max_length=16)  # pending, sending, sent, failed
    attempts: int = 0
    next_attempt_at: datetime = _when()
    last_error: str | None = _text(default=None)
    created_at: datetime = _when()
    sent_at: datetime | None = _when(default=None)


class DigestRun(SQLModel, table=True):
    """The daily digest of `day` has been made (its notifications written): never twice."""

    __tablename__ = "digest_runs"

    day: str = Field(primary_key=True, max_length=10)  # YYYY-MM-DD, the region's calendar
    created_at: datetime = _when()


class EscalationAlert(SQLModel, table=True):
    """An escalation event (TicketEvent "escalate") the notifier has dealt with: alerted in the
    batch named by `batch`, or `suppressed` because it repeated an alert of the quiet period."""

    __tablename__ = "escalation_alerts"
    __table_args__ = (Index("ix_escalation_alerts_group", "kind", "opd", "alerted_at"),)

    event_id: int = Field(
        primary_key=True, foreign_key="ticket_events.id", sa_column_kwargs={"autoincrement": False}
    )
    ticket_id: int = Field(foreign_key="tickets.id")
    kind: str = Field(max_length=32)  # opd_overdue, overall_overdue
    opd: str = Field(max_length=40)  # "" when the ticket has none
    alerted_at: datetime = _when()
    batch: str | None = Field(default=None, max_length=120)
    suppressed: bool = False


class ChannelHealthState(SQLModel, table=True):
    """The last known health of a channel account and the last state admins were told about."""

    __tablename__ = "channel_health"

    channel: str = Field(primary_key=True, max_length=32)
    account: str = Field(primary_key=True, max_length=320)
    state: str = Field(max_length=8)  # ok, down
    reason: str | None = _text(default=None)
    since: datetime = _when()
    alerted_state: str | None = Field(default=None, max_length=8)
    updated_at: datetime = _when()


class LearnedModel(SQLModel, table=True):
    """A model triage learned from the operators' decisions (triage/learning.py), stored here so
    every process of one database reads the same one; the retrain job replaces it whole."""

    __tablename__ = "learned_models"

    name: str = Field(primary_key=True, max_length=40)
    # One more at every retrain: what a process compares to know its copy is stale.
    generation: int = 0
    trained_at: datetime = _when()
    examples: int = 0
    payload: dict[str, Any] = _json(default_factory=dict)


ALL_TABLES = SQLModel.metadata
search.attach(ALL_TABLES)  # the full-text tables (SQLite) or indexes (PostgreSQL) beside them
status_counts.attach(ALL_TABLES)
