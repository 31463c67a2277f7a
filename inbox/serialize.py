"""Tickets, messages and events as the API answers with them (the models of inbox.schemas)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, tzinfo
from typing import Any

from inbox import schemas
from inbox.reporter_history import ReporterHistory
from store.models import Attachment, Message, Reporter, Ticket, TicketEvent
from store.tickets import ListedTicket, ReporterRef


def when(value: datetime | None, tz: tzinfo) -> str | None:
    """ISO 8601 with the region's offset, e.g. 2026-11-23T09:30:00+07:00."""
    return value.astimezone(tz).isoformat() if value else None


def ticket_summary(
    ticket: Ticket | ListedTicket,
    reporter: Reporter | ReporterRef,
    tz: tzinfo,
    holder: str | None = None,
) -> schemas.Ticket:
    return schemas.Ticket(**_ticket_fields(ticket, reporter, tz, holder))


def ticket_detail(
    ticket: Ticket,
    reporter: Reporter,
    conversation: Iterable[tuple[Message, list[Attachment]]],
    events: Iterable[TicketEvent],
    tz: tzinfo,
    holder: str | None = None,
    history: ReporterHistory | None = None,
) -> schemas.TicketDetail:
    history = history or ReporterHistory()
    return schemas.TicketDetail(
        **_ticket_fields(ticket, reporter, tz, holder),
        messages=[message_out(m, a, tz) for m, a in conversation],
        events=[event_out(e, tz) for e in events],
        follows=other_report(history.follows, tz) if history.follows else None,
        reporter_history=[other_report(t, tz) for t in history.others],
    )


def other_report(ticket: Ticket, tz: tzinfo) -> schemas.OtherReport:
    return schemas.OtherReport(
        number=ticket.number,
        status=ticket.status,
        category=ticket.category,
        created_at=when(ticket.created_at, tz),
        summary=ticket.summary,
    )


def _ticket_fields(
    ticket: Ticket | ListedTicket,
    reporter: Reporter | ReporterRef,
    tz: tzinfo,
    holder: str | None,
) -> dict[str, Any]:
    return {
        "number": ticket.number,
        "status": ticket.status,
        "resolution": ticket.resolution,
        "channel": ticket.channel,
        "reporter": {
            "name": reporter.display_name,
            "contact": reporter.contact,
            "channel_id": reporter.sender_id,
        },
        "summary": ticket.summary,
        "category": ticket.category,
        "opd": ticket.opd,
        "verified": ticket.verified_at is not None,
        "answered": ticket.answered,
        "merged_into": ticket.merged_into,
        "flags": ticket.flags,
        "created_at": when(ticket.created_at, tz),
        "last_activity_at": when(ticket.last_activity_at, tz),
        "verify_due_at": when(ticket.verify_due_at, tz),
        "clarification_due_at": when(ticket.clarification_due_at, tz),
        "opd_due_at": when(ticket.opd_due_at, tz),
        "due_at": when(ticket.due_at, tz),
        "message_count": ticket.message_count,
        "assignee": holder,
        "assigned_at": when(ticket.assigned_at, tz),
    }


def message_out(message: Message, attachments: list[Attachment], tz: tzinfo) -> schemas.Message:
    location = None
    if message.latitude is not None and message.longitude is not None:
        location = schemas.Location(
            latitude=message.latitude,
            longitude=message.longitude,
            name=message.location_name,
            address=message.location_address,
        )
    return schemas.Message(
        id=message.id,
        direction=message.direction,
        channel=message.channel,
        external_id=message.external_id,
        author=message.author,
        text=message.text,
        subject=message.subject,
        attachments=[attachment_out(a) for a in attachments],
        location=location,
        time=when(message.sent_at, tz),
        received_at=when(message.received_at, tz),
        delivery_state=message.delivery_state,
        error_code=message.error_code,
        error_message=message.error_message,
        parse_error=message.parse_error,
        notice=message.notice,
        notice_args=message.notice_args,
        edited_text=message.edited_text,
        deleted=message.deleted_at is not None,
        reaction=message.reaction,
        forwarded=message.forwarded,
    )


def attachment_out(attachment: Attachment) -> schemas.Attachment:
    return schemas.Attachment(
        id=attachment.id,
        kind=attachment.kind,
        mime_type=attachment.mime_type,
        file_name=attachment.file_name,
        size=attachment.size,
        caption=attachment.caption,
        state=attachment.fetch_state,
        error=attachment.fetch_error,
    )


def event_out(event: TicketEvent, tz: tzinfo) -> schemas.Event:
    return schemas.Event(
        at=when(event.at, tz),
        actor=event.actor,
        action=event.action,
        from_state=event.from_state,
        to_state=event.to_state,
        note=event.note,
        data=event.data,
    )
