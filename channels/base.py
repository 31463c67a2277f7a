"""The normalized message shapes and the protocol every channel adapter meets."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from aiohttp import web
from pydantic import BaseModel, ConfigDict

# Re-exported for the channel config models; it lives in a leaf every package may import.
from durations import Duration as Duration
from durations import parse_duration as parse_duration


class AttachmentKind(enum.StrEnum):
    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"
    VOICE = "voice"
    DOCUMENT = "document"
    STICKER = "sticker"
    CONTACT = "contact"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file that came with a report; the bytes are fetched later by the channel."""

    kind: AttachmentKind
    mime_type: str | None = None
    media_ref: str | None = None  # platform media id or URL to fetch it from
    size: int | None = None
    file_name: str | None = None
    sha256: str | None = None  # as the platform announced it, checked after download
    caption: str | None = None
    stored_path: str | None = None  # set when the channel already holds the bytes locally


@dataclass(frozen=True, slots=True)
class Location:
    latitude: float
    longitude: float
    name: str | None = None
    address: str | None = None


@dataclass(frozen=True, slots=True)
class Choice:
    """An answer a reporter can pick instead of typing (a WhatsApp reply button). Channels
    that cannot show one send the text alone, which says how to answer in words."""

    id: str  # comes back in InboundMessage.choice when picked
    title: str


class Notice(enum.StrEnum):
    """What a channel says about a message it cannot show, as a code: the inbox renders the words
    (texts `notices.<code>`) in the operator's language, and the stored text stays the reporter's.
    """

    UNSUPPORTED_KIND = "unsupported_kind"  # notice_args: {"kind": the platform's type name}
    UNSUPPORTED = "unsupported"  # of a kind the platform did not name
    UNREADABLE = "unreadable"  # its payload could not be read


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """One message a citizen sent, as every channel reports it to intake.

    `external_id` is unique per channel: a repeated delivery of the same id is stored once.
    `reply_to` and `references` are the platform's thread hints (email Message-IDs, the id of the
    message a WhatsApp reply quotes, a tweet's conversation id). `parse_error` is set when the
    platform payload could not be read fully: the message is still stored, with the reason.
    `notice` says, as a code, that Kanal cannot show the message (see Notice).
    """

    channel: str
    account: str
    external_id: str
    sender_id: str
    sent_at: datetime
    text: str = ""
    display_name: str | None = None
    contact: str | None = None  # phone number, email address or handle
    attachments: tuple[Attachment, ...] = ()
    location: Location | None = None
    reply_to: str | None = None
    references: tuple[str, ...] = ()
    subject: str | None = None
    forwarded: bool = False
    parse_error: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    notice: Notice | None = None  # shown beside the (often empty) text, see Notice
    notice_args: dict[str, str] = field(default_factory=dict)
    # Written where everyone reads it (a comment, a mention, a tweet): Kanal answers it only
    # when an operator does, since an automatic answer would be public or use up a comment's
    # one private reply.
    public: bool = False
    # The id of the Choice the reporter picked (a reply button); `text` holds its title.
    choice: str | None = None


class UpdateKind(enum.StrEnum):
    REACTION = "reaction"
    EDIT = "edit"
    DELETE = "delete"


@dataclass(frozen=True, slots=True)
class MessageUpdate:
    """A reaction, edit or deletion of an earlier message; never opens a ticket."""

    channel: str
    account: str
    external_id: str  # the id of this update event itself, for dedupe
    target_external_id: str  # the message it concerns
    kind: UpdateKind
    sender_id: str
    sent_at: datetime
    text: str = ""  # the emoji, or the edited text
    raw: dict[str, Any] = field(default_factory=dict)


class DeliveryState(enum.StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class DeliveryStatus:
    """The platform's news about a message we sent, matched by the platform's id for it."""

    channel: str
    account: str
    platform_message_id: str
    state: DeliveryState
    at: datetime
    error_code: str | None = None
    error_message: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AutoReply:
    """A fixed answer to an event (the greeting to /start): intake queues it in the outbox with
    the event's first storing, so it goes out once, also after a crash or a redelivery."""

    recipient_id: str
    text: str


@dataclass(frozen=True, slots=True)
class UnsupportedEvent:
    """An event the channel does not turn into a message; kept with its payload, never dropped."""

    channel: str
    account: str
    external_id: str
    kind: str
    reason: str
    raw: dict[str, Any] = field(default_factory=dict)
    auto_reply: AutoReply | None = None


Inbound = InboundMessage | MessageUpdate | DeliveryStatus | UnsupportedEvent


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a poller has read up to; committed in the same transaction as what it read."""

    channel: str
    account: str
    name: str  # one channel account may keep several (e.g. "mentions", "dms")
    value: str


@dataclass(frozen=True, slots=True)
class IntakeResult:
    stored: int  # new rows written
    duplicates: int  # items already stored before


@dataclass(frozen=True, slots=True)
class MediaResult:
    """The outcome of fetching one attachment in the background."""

    channel: str
    message_external_id: str
    media_ref: str
    stored_path: str | None = None  # relative to the data directory
    sha256: str | None = None
    size: int | None = None
    mime_type: str | None = None
    error: str | None = None  # set when the download failed; the channel may retry later


@dataclass(frozen=True, slots=True)
class PendingMedia:
    """An attachment stored but not yet fetched, e.g. when the process stopped mid-download."""

    message_external_id: str
    attachment: Attachment


class IntakeSink(Protocol):
    """What a channel hands its batches to. It returns only after everything is committed."""

    async def submit(
        self, items: Sequence[Inbound], cursor: Cursor | None = None
    ) -> IntakeResult: ...

    async def read_cursor(self, channel: str, account: str, name: str) -> str | None: ...

    async def record_media(self, result: MediaResult) -> None:
        """Link a downloaded attachment (or the reason its download failed) to its message."""
        ...

    async def pending_media(
        self, channel: str, account: str, since: datetime
    ) -> list[PendingMedia]:
        """Attachments of messages received after `since` still waiting for their download."""
        ...


class FileCarriage(enum.StrEnum):
    """How a channel delivers the files of an outbound message (a channel's `file_carriage`)."""

    LINK = "link"  # it takes no files: the outbox puts a link to each in the text
    EACH = "each"  # one file per platform message, sent after the text (WhatsApp, Telegram)
    TOGETHER = "together"  # the text and every file in one message (email)


@dataclass(frozen=True, slots=True)
class OutboundFile:
    """A file staff attached to a message (the OPD's answer), read from the data directory."""

    path: Path  # absolute
    file_name: str
    mime_type: str
    kind: AttachmentKind  # IMAGE or DOCUMENT
    size: int
    # Its signed public address (when Kanal has one): for platforms that fetch a file by URL
    # (Messenger, Instagram) and for the links in the text of channels that take no files.
    url: str | None = None


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """A message to a reporter, sent on the channel and account they wrote from."""

    channel: str
    account: str
    recipient_id: str  # the reporter's sender id on that channel
    text: str
    idempotency_key: str  # stable across retries, so a crash never sends twice
    recipient_contact: str | None = None
    reply_to: str | None = None  # the platform id of the message being answered
    references: tuple[str, ...] = ()
    subject: str | None = None
    ticket_number: str | None = None
    # When the reporter last wrote: platforms with a reply window (WhatsApp, Messenger) choose
    # between free text and a template by it.
    last_inbound_at: datetime | None = None
    options: dict[str, Any] = field(default_factory=dict)  # e.g. {"mode": "dm"} on X
    # Written by Kanal, not typed by an operator (reminders, closures, template texts): email
    # marks it Auto-Submitted so the reporter's autoresponder does not answer it.
    automatic: bool = False
    # Answers to offer as buttons where the channel has them; `text` must read well without.
    choices: tuple[Choice, ...] = ()
    # At most one for a channel of FileCarriage.EACH, whose text is then empty (the outbox
    # sends the text first); none for FileCarriage.LINK.
    files: tuple[OutboundFile, ...] = ()


@dataclass(frozen=True, slots=True)
class SendResult:
    platform_message_id: str


class PlatformError(Exception):
    """A platform call failed. `retryable` tells the outbox whether to try again;
    `retry_after` is the wait in seconds the platform named (HTTP Retry-After, a rate-limit
    reset), which the outbox and the poll loop keep to instead of their own back-off."""

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        code: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.code = code
        self.retry_after = retry_after

    def __repr__(self) -> str:
        return (
            f"PlatformError({self.args[0]!r}, retryable={self.retryable}, code={self.code!r}, "
            f"retry_after={self.retry_after!r})"
        )


class IntakeUnavailable(Exception):
    """The sink could not commit (the database is down): a webhook answers 503 so it is retried."""


Routes = Sequence[web.RouteDef]


class ChannelHealth(Protocol):
    """Where a channel says that an account stopped working (expired token, login refused,
    repeated platform errors) and that it works again; the notifier tells the admins once for
    each change. The runtime sets a channel's `health` attribute, when it has one, before
    `start()`. Both calls are cheap and never block: call `failing` on every failure and
    `working` on every success, not only on a change (channels.polling.PollLoop does this for
    every poller; an account polled by several loops works once all of them do)."""

    def failing(self, channel: str, account: str, reason: str) -> None: ...

    def working(self, channel: str, account: str) -> None: ...


@runtime_checkable
class Channel(Protocol):
    """One platform account.

    `start(sink)` is called for every enabled channel before the web app serves: a poller starts
    its loop there, a webhook channel keeps the sink for the handlers its `routes()` returns.
    A channel that can send files says how in a `file_carriage` attribute (see FileCarriage),
    or per message in a `file_carriage_for(message)` method; without either, files go out as
    links (`carriage_of`).
    """

    name: str
    account: str

    def routes(self) -> Routes: ...

    async def start(self, sink: IntakeSink) -> None: ...

    async def stop(self) -> None: ...

    async def send(self, message: OutboundMessage) -> SendResult: ...


def carriage_of(channel: Channel, message: OutboundMessage) -> FileCarriage:
    """How `channel` delivers the files of `message`."""
    per_message = getattr(channel, "file_carriage_for", None)
    if per_message is not None:
        return FileCarriage(per_message(message))
    return FileCarriage(getattr(channel, "file_carriage", FileCarriage.LINK))


@runtime_checkable
class ListensAndPolls(Protocol):
    """A channel that both serves webhooks and polls (Instagram, Facebook). Webhooks may reach
    any process, so every one listens; polling is a singleton, run under leadership.
    `start(sink)` and `stop()` still do both, for a single process."""

    async def listen(self, sink: IntakeSink) -> None: ...

    async def start_polling(self, sink: IntakeSink) -> None: ...

    async def stop_polling(self) -> None: ...


class ChannelConfig(BaseModel):
    """The keys every `[channels.NAME]` table has; each channel module extends it."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    # Answer every new report with its ticket number (through the outbox, once per ticket).
    acknowledge: bool = True

    def sends_after_window(self) -> bool:
        """Whether a reply still goes out once the platform's reply window has closed (as an
        approved template); the ticket page's warning says which."""
        return False
