"""The JSON the API answers with, as pydantic models: handlers build them, OpenAPI shows them."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, create_model

from store.stats import NOT_VALID_REASONS, REJECTED_REASONS
from triage.states import Resolution, Status

# ISO 8601 with the region's offset, as inbox.serialize.when writes it (2026-11-23T09:30:00+07:00).
When = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})] | None


class Answer(BaseModel):
    # Every field is always sent, and nothing else: the schema says so and the tests hold to it.
    model_config = ConfigDict(extra="forbid")


class Error(Answer):
    error: str


class FieldProblem(Answer):
    field: str
    problem: str


class InvalidBody(Error):
    """A body that is not an action, field by field."""

    details: list[FieldProblem]


class Refused(Error):
    """An action the ticket's state does not allow."""

    status: Status
    action: str


class Held(Error):
    """Another operator holds the ticket; repeat the request with `?confirm=held` to act
    anyway."""

    holder: str
    action: str


class Health(Answer):
    status: Literal["ok", "unavailable"]
    database: Literal["ok", "unreachable"]
    leading: list[str] = Field(description="singletons this process runs now (scheduler, pollers)")


class Reporter(Answer):
    name: str | None
    contact: str | None
    channel_id: str


class Ticket(Answer):
    number: str = Field(examples=["LBP-2026-00042"])
    status: Status
    resolution: Resolution | None
    channel: str
    reporter: Reporter
    summary: str
    category: str | None
    opd: str | None
    verified: bool
    answered: bool
    merged_into: str | None
    flags: dict[str, Any] = Field(description="assessment hints and sweep markers")
    created_at: When
    last_activity_at: When
    verify_due_at: When
    clarification_due_at: When
    opd_due_at: When
    due_at: When
    message_count: int
    assignee: str | None = Field(description="the staff username holding the ticket")
    assigned_at: When


class Attachment(Answer):
    id: int
    kind: str
    mime_type: str | None
    file_name: str | None
    size: int | None
    caption: str | None
    state: Literal["pending", "stored", "failed"]
    error: str | None


class Location(Answer):
    latitude: float
    longitude: float
    name: str | None
    address: str | None


class Message(Answer):
    id: int
    direction: Literal["in", "out"]
    channel: str
    external_id: str
    author: str | None
    text: str
    subject: str | None
    attachments: list[Attachment]
    location: Location | None
    time: When
    received_at: When
    delivery_state: str | None
    error_code: str | None
    error_message: str | None
    parse_error: str | None
    # A channel's notice on a message it cannot show, as a code ("unsupported_kind",
    # "unsupported", "unreadable") and its values ({"kind": ...}); the words are the client's.
    notice: str | None
    notice_args: dict[str, str] | None
    edited_text: str | None
    deleted: bool
    reaction: str | None
    forwarded: bool


class Event(Answer):
    at: When
    actor: str
    action: str
    from_state: str | None
    to_state: str | None
    note: str | None
    data: dict[str, Any]


class OtherReport(Answer):
    """Another report of the same reporter, as the ticket page's reporter history lists it."""

    number: str = Field(examples=["LBP-2026-00012"])
    status: Status
    category: str | None
    created_at: When
    summary: str


class TicketDetail(Ticket):
    """One ticket with its conversation and audit trail."""

    messages: list[Message]
    events: list[Event]
    follows: OtherReport | None = Field(
        description="the reporter's earlier report this one follows (a message after the earlier "
        "was resolved or closed); null when none, or when the caller may not see it"
    )
    reporter_history: list[OtherReport] = Field(
        description="the reporter's other reports, newest first, at most 20: every one for staff, "
        "for an OPD's liaison only those forwarded to its OPD now"
    )


class TicketPage(Answer):
    items: list[Ticket]
    next_cursor: str | None = Field(description="the `cursor` of the next page; null on the last")


class Category(Answer):
    code: str
    name: str
    opd: str | None


class CodeName(Answer):
    code: str
    name: str


def _counts(name: str, keys: tuple[str, ...] | list[str]) -> type[Answer]:
    """A model with one count per key, so the schema lists every key the figures always have."""
    return create_model(name, __base__=Answer, **{key: (int, ...) for key in keys})


NotValidReasons = _counts("NotValidReasons", NOT_VALID_REASONS)
RejectedReasons = _counts("RejectedReasons", REJECTED_REASONS)
StatusCounts = _counts("StatusCounts", [s.value for s in Status])


class Received(Answer):
    total: int
    by_channel: dict[str, int]


class NotValid(Answer):
    total: int
    by_reason: NotValidReasons  # type: ignore[valid-type]


class Rejected(Answer):
    total: int
    by_reason: RejectedReasons  # type: ignore[valid-type]


class Outcome(Answer):
    """The reporters' verdict on one OPD's or category's resolved tickets."""

    resolved: int
    reopened: int
    reopened_share: float | None
    rated: int
    mean_rating: float | None


class Satisfaction(Answer):
    by_opd: dict[str, Outcome]
    by_category: dict[str, Outcome]


class Period(Answer):
    """The figures of the reports received in a period (store.stats PERIOD)."""

    received: Received
    valid: int
    not_valid: NotValid
    rejected: Rejected
    by_status: StatusCounts  # type: ignore[valid-type]
    by_category: dict[str, int]
    by_opd: dict[str, int]
    overdue_by_opd: dict[str, list[str]] = Field(description="past the OPD answer clock, per OPD")
    overdue_verify: list[str] = Field(description="past the operators' verify clock")
    median_first_response_hours: float | None
    median_resolution_hours: float | None
    satisfaction: Satisfaction
