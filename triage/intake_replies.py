"""What intake answers by itself, in the batch's own transaction: the acknowledgement with the
ticket number, the notice that a follow-up reopened a report, and the answer to a status request.

Each is an outbound message on the ticket and an outbox row, as `triage.outbox.enqueue` writes
for an operator's reply, so it shows in the ticket's history and is sent exactly once.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any

from channels.base import DeliveryState, InboundMessage
from store.statuses import Status
from triage import messages

SYSTEM_AUTHOR = "system"


@dataclass(frozen=True)
class ReplyRules:
    """The settings behind intake's own answers (runtime.py builds them from config.toml)."""

    # Channels whose new tickets are acknowledged (`[channels.NAME] acknowledge`).
    acknowledge: frozenset[str] = frozenset()
    locale: str = "id"
    region: str = ""
    opd_names: Mapping[str, str] = field(default_factory=dict)  # OPD code -> name
    # A follow-up this soon after a ticket was resolved or closed reopens it.
    reopen_within: timedelta = timedelta(days=14)
    # The OPD's next due time when a reporter says a resolved ticket is not fixed, from the
    # moment and the ticket's category; None: such a ticket goes back to the operators.
    opd_due: Callable[[datetime, str | None], datetime] | None = None


def readable(message: InboundMessage) -> bool:
    """Whether a message says anything an acknowledgement could confirm."""
    if message.parse_error:
        return False
    return bool(message.text.strip() or message.attachments or message.location)


@dataclass(frozen=True, slots=True)
class Reply:
    ticket_id: int
    number: str
    to: InboundMessage  # the reporter's message it answers
    text: str
    key: str  # the outbox idempotency key: one acknowledgement per ticket


def acknowledgement(
    ticket_id: int, number: str, to: InboundMessage, rules: ReplyRules, due: str | None
) -> Reply:
    key = "received" if due else "received.undated"
    text = messages.render(key, rules.locale, number=number, deadline=due, region=rules.region)
    return Reply(ticket_id, number, to, text, f"ack-{number}")


def reopened(ticket_id: int, number: str, to: InboundMessage, rules: ReplyRules) -> Reply:
    text = messages.render("reopened", rules.locale, number=number, region=rules.region)
    return Reply(ticket_id, number, to, text, uuid.uuid4().hex)


def status_text(ticket: Any, rules: ReplyRules, tz: tzinfo, merged_into: Any = None) -> str:
    """The answer to "how is my report?": its state, the OPD that has it and the next deadline.

    `ticket` is a row of `store.ingest.ticket_summaries`; `merged_into` the row of the ticket it
    was merged into, whose state is the one that counts.
    """
    locale = rules.locale
    if merged_into is not None:
        intro = messages.render(
            "status.merged", locale, number=ticket.number, original=merged_into.number
        )
        return f"{intro} {status_text(merged_into, rules, tz)}"
    status = Status(ticket.status)
    opd = rules.opd_names.get(ticket.opd or "", ticket.opd or "")
    key = f"status.{status.value}"
    if status in (Status.FORWARDED, Status.IN_PROGRESS, Status.ANSWERED) and not opd:
        key = "status.new"
    text = messages.render(key, locale, number=ticket.number, opd=opd, region=rules.region)
    due = _next_due(ticket, status)
    if due is not None:
        when = messages.format_due(due, tz, locale)
        text += " " + messages.render("status.deadline", locale, deadline=when)
    return text


def _next_due(ticket: Any, status: Status) -> datetime | None:
    if status is Status.NEW:
        return ticket.verify_due_at
    if status is Status.CLARIFYING:
        return ticket.clarification_due_at
    if status in (Status.FORWARDED, Status.IN_PROGRESS):
        return ticket.opd_due_at or ticket.due_at
    if status is Status.ANSWERED:
        return ticket.due_at
    return None


def rows(reply: Reply, now: datetime) -> tuple[dict[str, Any], dict[str, Any]]:
    """The outbound message and its outbox row (its `message_id` filled in once inserted)."""
    to = reply.to
    message = {
        "ticket_id": reply.ticket_id,
        "direction": "out",
        "channel": to.channel,
        "account": to.account,
        "external_id": f"kanal-{reply.key}",
        "sender_id": None,
        "author": SYSTEM_AUTHOR,
        "text": reply.text,
        "subject": to.subject,
        "reply_to": to.external_id,
        "references": list(to.references),
        "forwarded": False,
        "sent_at": now,
        "received_at": now,
        "delivery_state": DeliveryState.QUEUED.value,
    }
    outbox = {
        "channel": to.channel,
        "idempotency_key": reply.key,
        "payload": {
            "recipient_id": to.sender_id,
            "recipient_contact": to.contact,
            "ticket_number": reply.number,
            "options": {},
            "automatic": True,
        },
        "state": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }
    return message, outbox
