"""One group-commit batch: raw events, reporters, tickets, messages, updates and cursors.

Runs in a worker thread inside one transaction. Every statement is set-based where it can be,
so a batch of hundreds of messages costs a handful of round trips.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from functools import cached_property
from typing import Any

from sqlalchemy import Connection

from channels.base import (
    Cursor,
    DeliveryState,
    DeliveryStatus,
    Inbound,
    InboundMessage,
    MessageUpdate,
    UnsupportedEvent,
    UpdateKind,
)
from channels.registry import channel_label
from store import ingest
from store.flags import Satisfaction, TicketFlags
from store.models import OutboxItem
from store.rows import AttachmentRow, EventRow, MessageRow, RawRow, TicketRow
from texts.catalog import DEFAULT_LOCALE
from texts.notices import notice_text
from triage import auto_replies, intake_replies, messages
from triage.checkback import CheckBack, checkback_answer, checkback_choice
from triage.delivery import moves_forward
from triage.intake_replies import Reply, ReplyRules, readable
from triage.states import (
    FINAL_STATES,
    OPEN_STATES,
    Action,
    Resolution,
    Status,
    TicketFacts,
    decide,
)
from triage.status_requests import StatusRequest, status_request
from triage.threads import (
    Candidates,
    Quoted,
    choose_ticket,
    format_number,
    may_reopen,
    open_key,
    ticket_numbers_in,
)

SUMMARY_LENGTH = 200
FINAL = frozenset(s.value for s in FINAL_STATES)
MESSAGES = ingest.MESSAGES
SYSTEM_ACTOR = "system"
# Shown where a report has no text of its own.
_MEDIA_SUMMARY = {
    "image": "[foto]",
    "video": "[video]",
    "audio": "[audio]",
    "voice": "[pesan suara]",
    "document": "[dokumen]",
    "sticker": "[stiker]",
    "contact": "[kontak]",
}


@dataclass
class BatchOutcome:
    stored: int = 0
    duplicates: int = 0
    new_ticket_ids: list[int] = field(default_factory=list)
    # Existing tickets a reporter's message added to (their hints are worked out again).
    changed_ticket_ids: list[int] = field(default_factory=list)
    replies_queued: int = 0  # intake's own answers waiting in the outbox
    fresh_keys: set[tuple[str, str]] = field(default_factory=set)


def item_key(item: Inbound) -> tuple[str, str]:
    """The (channel, external id) under which an item is stored once."""
    if isinstance(item, DeliveryStatus):
        return item.channel, f"status:{item.platform_message_id}:{item.state.value}"
    return item.channel, item.external_id


def _kind_of(item: Inbound) -> str:
    if isinstance(item, InboundMessage):
        return "message"
    if isinstance(item, MessageUpdate):
        return item.kind.value
    if isinstance(item, DeliveryStatus):
        return "status"
    return item.kind[:40]


def _summary(message: InboundMessage) -> str:
    text = (message.text or message.subject or "").strip()
    if not text and message.attachments:
        text = _MEDIA_SUMMARY.get(message.attachments[0].kind.value, "[lampiran]")
    if not text and message.location:
        text = message.location.name or "[lokasi]"
    if not text and message.notice:
        platform = channel_label(message.channel, DEFAULT_LOCALE)
        text = notice_text(message.notice, platform, message.notice_args, DEFAULT_LOCALE)
    return " ".join(text.split())[:SUMMARY_LENGTH]


class BatchWriter:
    """Writes one batch; constructed per batch with the shared settings."""

    def __init__(
        self,
        conn: Connection,
        *,
        prefix: str,
        tz: tzinfo,
        now: datetime,
        verify_due: Callable[[datetime], datetime] | None = None,
        replies: ReplyRules | None = None,
    ) -> None:
        self.conn = conn
        self.rules = replies or ReplyRules()
        self.replies: list[Reply] = []  # intake's own answers, written with the batch
        self.auto_rows: list[dict[str, Any]] = []  # answers to messages kept on no ticket
        self.prefix = prefix
        self.tz = tz
        self.now = now
        self._verify_due = verify_due
        self.outcome = BatchOutcome()
        self.opened_ids: set[int] = set()
        self.spam_keys: set[tuple[str, int]] = set()  # new tickets of senders marked as spam
        self.new_counts: Counter[tuple[str, int]] = Counter()

    def write(self, items: Sequence[Inbound], cursors: Sequence[Cursor]) -> BatchOutcome:
        fresh = self._store_raw(items)
        messages = [(item, raw_id) for item, raw_id in fresh if isinstance(item, InboundMessage)]
        if messages:
            self._store_messages(messages)
        for item, raw_id in fresh:
            if isinstance(item, MessageUpdate):
                self._apply_update(item, raw_id)
            elif isinstance(item, DeliveryStatus):
                self._apply_status(item, raw_id)
        # In this transaction: an answer the event asks for (a greeting) goes out exactly once.
        replies = auto_replies.outbox_rows((item for item, _ in fresh), self.now)
        replies += self.auto_rows
        self.outcome.replies_queued += len(self.auto_rows)
        if replies:
            ingest.insert_rows(self.conn, OutboxItem.__table__, replies)
        for cursor in cursors:
            ingest.save_cursor(
                self.conn, cursor.channel, cursor.account, cursor.name, cursor.value, self.now
            )
        return self.outcome

    def _store_raw(self, items: Sequence[Inbound]) -> list[tuple[Inbound, int]]:
        """Keep every item not seen before, first delivery wins; report the rest as duplicates."""
        unique: dict[tuple[str, str], Inbound] = {}
        for item in items:
            unique.setdefault(item_key(item), item)
        already = ingest.existing_raw_keys(self.conn, unique.keys())
        fresh = [item for key, item in unique.items() if key not in already]
        self.outcome.fresh_keys = {item_key(item) for item in fresh}
        self.outcome.duplicates = len(items) - len(fresh)
        self.outcome.stored = len(fresh)
        rows = [
            RawRow(
                channel=item.channel,
                account=item.account,
                external_id=item_key(item)[1],
                kind=_kind_of(item),
                payload=item.raw,
                error=_error_of(item),
                received_at=self.now,
            )
            for item in fresh
        ]
        return list(zip(fresh, ingest.RAW_INSERT.ids(self.conn, rows), strict=True))

    def _store_messages(self, messages: list[tuple[InboundMessage, int]]) -> None:
        identities = {
            (m.channel, m.sender_id): {"display_name": m.display_name, "contact": m.contact}
            for m, _ in messages
        }
        reporters = ingest.reporter_ids(self.conn, identities, self.now)
        ticket_of, asking = self._thread(messages, reporters)
        # A status request about no report of the sender's is kept as its raw event only.
        kept = [(i, m, raw_id) for i, (m, raw_id) in enumerate(messages) if ticket_of[i]]
        rows = [self._message_row(m, raw_id, ticket_of[i] or 0) for i, m, raw_id in kept]
        ids = ingest.MESSAGE_INSERT.ids(self.conn, rows)
        self._store_attachments([m for _, m, _ in kept], ids)
        self._touch_tickets(
            [t for t in ticket_of if t],
            {t for i, t in enumerate(ticket_of) if t and i not in asking},
        )
        self._queue_replies()

    def _thread(
        self, messages: list[tuple[InboundMessage, int]], reporters: dict[tuple[str, str], int]
    ) -> tuple[list[int | None], set[int]]:
        """The ticket id of every message, opening new tickets and reopening final ones where
        the rules say so; and the positions of the messages that only ask for a status."""
        by_ref: dict[str, dict[str, tuple[int, str, int, str]]] = {}
        for channel in {m.channel for m, _ in messages}:
            refs = {r for m, _ in messages if m.channel == channel for r in _refs(m)}
            by_ref[channel] = ingest.tickets_by_message_refs(self.conn, channel, sorted(refs))
        numbers = {n for m, _ in messages for n in self._quoted_numbers(m)}
        by_number = ingest.tickets_by_number(self.conn, sorted(numbers))
        open_by_reporter: dict[tuple[str, int], int] = {}
        latest_by_reporter: dict[tuple[str, int], tuple[int, str]] = {}
        for channel in {m.channel for m, _ in messages}:
            ids = sorted(
                {reporters[m.channel, m.sender_id] for m, _ in messages if m.channel == channel}
            )
            found = ingest.open_tickets_of(self.conn, ids, channel, sorted(OPEN_STATES))
            open_by_reporter.update(((channel, rid), tid) for rid, tid in found.items())
            latest = ingest.latest_tickets_of(self.conn, ids, channel)
            latest_by_reporter.update(((channel, rid), t) for rid, t in latest.items())
        # Senders an operator marked as spam: kept, never answered, out of the queue.
        spam = ingest.spam_marked(self.conn, sorted(set(reporters.values())))
        asks = {
            i: request
            for i, (m, _) in enumerate(messages)
            if (request := self._status_request(m)) is not None
            and reporters[m.channel, m.sender_id] not in spam
        }
        self.known = ingest.ticket_summaries(
            self.conn,
            [
                t
                for found in by_ref.values()
                for t, status, _, _ in found.values()
                if status in FINAL
            ]
            + [t for t, status, _ in by_number.values()]
            + [t for t, status in latest_by_reporter.values() if status in FINAL or asks],
        )
        within = self.rules.reopen_within
        reopenable = frozenset(
            t
            for t, row in self.known.items()
            if may_reopen(row.status, row.resolution, row.closed_at, self.now, within)
        )

        # Decide first; tickets to open are keyed by reporter so that several messages of one
        # reporter in this batch share the one new ticket.
        decided: list[int | tuple[str, int] | None] = []
        to_open: dict[tuple[str, int], tuple[InboundMessage, int | None]] = {}
        to_reopen: dict[int, tuple[InboundMessage, int]] = {}
        answers: dict[int, tuple[InboundMessage, int, CheckBack]] = {}
        # Status requests, answered once this batch's tickets are open: "cek" right after a
        # first report in the same batch asks about that report.
        status_asks: list[tuple[InboundMessage, int | tuple[str, int] | None, bool]] = []
        quiet = set(asks)  # messages that are no news about the report
        mentions: dict[int | tuple[str, int], list[str]] = {}
        for i, (message, _) in enumerate(messages):
            reporter = reporters[message.channel, message.sender_id]
            key = (message.channel, reporter)
            if reporter in spam:
                decided.append(self._spam_ticket(key, open_by_reporter, latest_by_reporter))
                if decided[-1] == key:
                    to_open.setdefault(key, (message, None))
                quiet.add(i)
                continue
            if i in asks:
                own = [
                    by_number[n][0]
                    for n in asks[i].numbers
                    if n in by_number and by_number[n][2] == reporter
                ]
                target: int | tuple[str, int] | None
                if asks[i].numbers:
                    target = own[0] if own else None
                elif key in open_by_reporter:
                    target = open_by_reporter[key]
                elif key in to_open:  # reported earlier in this batch
                    target = key
                else:
                    latest = latest_by_reporter.get(key)
                    target = latest[0] if latest else None
                decided.append(target)
                status_asks.append((message, target, bool(asks[i].numbers)))
                continue
            latest = latest_by_reporter.get(key)
            answer = self._checkback(message, latest, reopenable, key in open_by_reporter)
            if latest and answer is not None:
                decided.append(latest[0])
                answers.setdefault(latest[0], (message, reporter, answer))
                quiet.add(i)
                if answer.fixed is False:
                    open_by_reporter[key] = latest[0]  # reopened below
                continue
            refs = [
                Quoted(*by_ref[message.channel][r])
                for r in _refs(message)
                if r in by_ref[message.channel]
            ]
            quoted = tuple(
                Quoted(*by_number[n], number=n)
                for n in self._quoted_numbers(message)
                if n in by_number
            )
            latest = latest_by_reporter.get(key)
            choice = choose_ticket(
                Candidates(
                    replied_to=refs[0] if refs else None,
                    quoted=quoted,
                    reporter_open=open_by_reporter.get(key),
                    reporter_id=reporter,
                    reporter_final=latest[0] if latest and latest[1] in FINAL else None,
                    reopenable=reopenable,
                    public=message.public,
                )
            )
            if choice.ticket_id is not None:
                decided.append(choice.ticket_id)
                if choice.reopen:
                    to_reopen.setdefault(choice.ticket_id, (message, reporter))
                    open_by_reporter[key] = choice.ticket_id  # the reporter's open ticket now
            else:
                to_open.setdefault(key, (message, choice.follows))
                decided.append(key)
            if choice.mentions:
                mentions.setdefault(decided[-1], []).extend(choice.mentions)  # type: ignore[arg-type]
        self.new_counts = Counter(d for d in decided if isinstance(d, tuple))
        self._reopen(to_reopen)
        self._record_answers(answers)
        opened = self._open_tickets(to_open, mentions)
        self._answer_statuses(
            [(m, opened[t] if isinstance(t, tuple) else t, named) for m, t, named in status_asks]
        )
        existing = {t: n for t, n in mentions.items() if isinstance(t, int)}
        if existing:
            ingest.add_mentions(self.conn, existing)
        ticket_of = [opened[d] if isinstance(d, tuple) else d for d in decided]
        return ticket_of, quiet

    def _spam_ticket(
        self,
        key: tuple[str, int],
        open_by_reporter: dict[tuple[str, int], int],
        latest_by_reporter: dict[tuple[str, int], tuple[int, str]],
    ) -> int | tuple[str, int]:
        """Where a message of a sender marked as spam goes: the open ticket an operator kept
        for them, else their latest ticket if it was closed as spam, else a new ticket that
        closes as spam at once (`key`)."""
        if key in open_by_reporter:
            return open_by_reporter[key]
        latest = latest_by_reporter.get(key)
        row = self.known.get(latest[0]) if latest else None
        if row is not None and row.resolution == Resolution.SPAM.value:
            return row.id
        self.spam_keys.add(key)
        return key

    def _status_request(self, message: InboundMessage) -> StatusRequest | None:
        if message.public:  # answered only by an operator (channels.base.InboundMessage)
            return None
        return status_request(
            message.text or "",
            self.prefix,
            has_media=bool(message.attachments),
            has_location=message.location is not None,
        )

    def _checkback(
        self,
        message: InboundMessage,
        latest: tuple[int, str] | None,
        reopenable: frozenset[int],
        has_open: bool,
    ) -> CheckBack | None:
        """The reporter's answer to the check-back of their recently resolved ticket, if this
        message is one."""
        if message.public or has_open or latest is None:
            return None
        ticket_id, status = latest
        if status != Status.RESOLVED.value or ticket_id not in reopenable:
            return None
        if message.choice is not None:
            return checkback_choice(message.choice, message.text)
        media = bool(message.attachments) or message.location is not None
        return checkback_answer(message.text or "", has_media=media)

    def _record_answers(self, answers: dict[int, tuple[InboundMessage, int, CheckBack]]) -> None:
        """Keep each answer on its ticket; "belum" sends the ticket back to the OPD that had it
        (to the operators when it had none), with the reporter's words."""
        rules = self.rules
        for ticket_id, (message, reporter, answer) in answers.items():
            row = self.known[ticket_id]
            satisfaction = Satisfaction(
                checkback_fixed=answer.fixed,
                checkback_rating=answer.rating,
                checkback_at=self.now.isoformat(),
            )
            ingest.merge_flags(self.conn, ticket_id, satisfaction, checkback_rating=answer.rating)
            data: dict[str, Any] = {"fixed": answer.fixed, "rating": answer.rating}
            key = open_key(message.channel, reporter)
            if answer.fixed is not False:
                event = self._event(ticket_id, "checkback", row.status, row.status)
                text = messages.render("checkback.thanks", rules.locale, number=row.number)
            elif row.opd and rules.opd_due is not None:
                outcome = decide(TicketFacts(Status(row.status)), Action.NOT_FIXED)
                due = rules.opd_due(self.now, row.category)
                ingest.reopen_to_opd(self.conn, ticket_id, key, due, row.due_at)
                event = self._event(
                    ticket_id, Action.NOT_FIXED.value, row.status, outcome.to_state.value
                )
                data |= {"words": answer.words, "opd": row.opd, "opd_due_at": due.isoformat()}
                opd = rules.opd_names.get(row.opd, row.opd)
                text = messages.render(
                    "checkback.reopened", rules.locale, number=row.number, opd=opd
                )
            else:
                outcome = decide(TicketFacts(Status(row.status)), Action.REOPEN)
                ingest.reopen_for_follow_up(self.conn, ticket_id, key, self.verify_due_at)
                event = self._event(
                    ticket_id, Action.REOPEN.value, row.status, outcome.to_state.value
                )
                data |= {"by": "checkback", "words": answer.words}
                text = messages.render(
                    "reopened", rules.locale, number=row.number, region=rules.region
                )
            ingest.EVENT_INSERT.ids(self.conn, [event._replace(data=data)])
            self.replies.append(Reply(ticket_id, row.number, message, text, uuid.uuid4().hex))

    def _answer_statuses(self, asks: list[tuple[InboundMessage, int | None, bool]]) -> None:
        """Answer the batch's status requests from the tickets as this batch leaves them (opened,
        reopened, answered)."""
        if not asks:
            return
        self.known.update(ingest.ticket_summaries(self.conn, [t for _, t, _ in asks if t]))
        for message, target, named in asks:
            self._answer_status(message, target, named)

    def _answer_status(self, message: InboundMessage, target: int | None, named: bool) -> None:
        """Queue the answer to a status request: the report's state, or that there is none."""
        rules = self.rules
        if target is None:
            text = messages.render("status.not_found" if named else "status.none", rules.locale)
            self.auto_rows.append(auto_replies.row(message, text, self.now))
            return
        row = self.known[target]
        merged_into = None
        if row.merged_into:
            found = ingest.tickets_by_number(self.conn, [row.merged_into])
            if row.merged_into in found:
                survivor = found[row.merged_into][0]
                merged_into = ingest.ticket_summaries(self.conn, [survivor])[survivor]
        text = intake_replies.status_text(row, rules, self.tz, merged_into)
        self.replies.append(Reply(target, row.number, message, text, uuid.uuid4().hex))

    def _reopen(self, to_reopen: dict[int, tuple[InboundMessage, int]]) -> None:
        """The reporter wrote again soon after their report was settled: it is reopened."""
        for ticket_id, (message, reporter) in to_reopen.items():
            row = self.known[ticket_id]
            outcome = decide(TicketFacts(Status(row.status)), Action.REOPEN)
            ingest.reopen_for_follow_up(
                self.conn, ticket_id, open_key(message.channel, reporter), self.verify_due_at
            )
            event = self._event(ticket_id, Action.REOPEN.value, row.status, outcome.to_state.value)
            ingest.EVENT_INSERT.ids(self.conn, [event._replace(data={"by": "follow_up"})])
            if self._acknowledges(message):
                self.replies.append(
                    intake_replies.reopened(ticket_id, row.number, message, self.rules)
                )

    def _acknowledges(self, message: InboundMessage) -> bool:
        return (
            message.channel in self.rules.acknowledge and not message.public and readable(message)
        )

    def _queue_replies(self) -> None:
        """Intake's own answers, as outbound messages with their outbox rows."""
        if not self.replies:
            return
        built = [intake_replies.rows(reply, self.now) for reply in self.replies]
        ids = ingest.insert_returning_ids(self.conn, MESSAGES, [message for message, _ in built])
        outbox = [
            row | {"message_id": message_id}
            for (_, row), message_id in zip(built, ids, strict=True)
        ]
        ingest.insert_rows(self.conn, OutboxItem.__table__, outbox)
        ingest.add_messages_to_tickets(
            self.conn, Counter(reply.ticket_id for reply in self.replies), self.now
        )
        self.outcome.replies_queued += len(self.replies)
        self.replies = []

    def _quoted_numbers(self, message: InboundMessage) -> list[str]:
        return ticket_numbers_in(f"{message.subject or ''} {message.text}", self.prefix)

    def _open_tickets(
        self,
        to_open: dict[tuple[str, int], tuple[InboundMessage, int | None]],
        mentions: dict[int | tuple[str, int], list[str]],
    ) -> dict[tuple[str, int], int]:
        """Open every new ticket of the batch with a few statements, numbers in arrival order."""
        if not to_open:
            return {}
        year = self.now.astimezone(self.tz).year
        serials = ingest.allocate_numbers(self.conn, f"{self.prefix}-{year}", len(to_open))
        rows = []
        for serial, ((_, reporter), (message, follows)) in zip(
            serials, to_open.items(), strict=True
        ):
            named = mentions.get((message.channel, reporter), ())  # others' tickets it quotes
            flags = TicketFlags.of_threading(
                follows, list(dict.fromkeys(named)), public=message.public
            )
            rows.append(
                TicketRow(
                    number=format_number(self.prefix, year, serial),
                    status=Status.NEW.value,
                    channel=message.channel,
                    account=message.account,
                    reporter_id=reporter,
                    summary=_summary(message),
                    created_at=self.now,
                    last_activity_at=self.now,
                    verify_due_at=self.verify_due_at,
                    message_count=self.new_counts[message.channel, reporter],
                    answered=False,
                    flags=flags.stored(),
                    open_key=None
                    if (message.channel, reporter) in self.spam_keys
                    else open_key(message.channel, reporter),
                )
            )
        ids = ingest.TICKET_INSERT.ids(self.conn, rows)
        spam = [t for t, key in zip(ids, to_open, strict=True) if key in self.spam_keys]
        spam_ids = set(spam)  # looked up once per new ticket of the batch
        self.outcome.new_ticket_ids.extend(t for t in ids if t not in spam_ids)  # spam: no hints
        events = [self._event(ticket_id, "opened", None, "new") for ticket_id in ids]
        ingest.EVENT_INSERT.ids(self.conn, events + self._close_spam(spam))
        self.opened_ids = set(ids)
        due = self.verify_due_at
        when = messages.format_due(due, self.tz, self.rules.locale) if due else None
        for ticket_id, row, (message, _) in zip(ids, rows, to_open.values(), strict=True):
            if ticket_id not in spam_ids and self._acknowledges(message):
                self.replies.append(
                    intake_replies.acknowledgement(ticket_id, row.number, message, self.rules, when)
                )
        return dict(zip(to_open, ids, strict=True))

    def _close_spam(self, ticket_ids: list[int]) -> list[EventRow]:
        """New tickets of senders marked as spam close at once; their audit events."""
        if not ticket_ids:
            return []
        closed = decide(TicketFacts(Status.NEW), Action.SPAM_SENDER)  # closed as spam
        assert closed.resolution is not None
        ingest.close_at_once(self.conn, ticket_ids, self.now, resolution=closed.resolution.value)
        action, to_state = Action.SPAM_SENDER.value, closed.to_state.value
        return [self._event(t, action, Status.NEW.value, to_state) for t in ticket_ids]

    @cached_property
    def verify_due_at(self) -> datetime | None:
        """The operators' clock runs from a report's arrival, and again from a reporter's answer:
        worked out only for a batch that opens or reopens a ticket."""
        return self._verify_due(self.now) if self._verify_due else None

    def _message_row(self, m: InboundMessage, raw_id: int, ticket_id: int) -> MessageRow:
        location = m.location
        return MessageRow(
            ticket_id=ticket_id,
            direction="in",
            channel=m.channel,
            account=m.account,
            external_id=m.external_id,
            sender_id=m.sender_id,
            text=m.text,
            subject=m.subject,
            latitude=location.latitude if location else None,
            longitude=location.longitude if location else None,
            location_name=location.name if location else None,
            location_address=location.address if location else None,
            reply_to=m.reply_to,
            references=list(m.references),
            forwarded=m.forwarded,
            parse_error=m.parse_error,
            notice=m.notice,
            notice_args=dict(m.notice_args) if m.notice else None,
            sent_at=m.sent_at,
            received_at=self.now,
            raw_event_id=raw_id,
        )

    def _store_attachments(self, messages: list[InboundMessage], ids: list[int]) -> None:
        rows = [
            AttachmentRow(
                message_id=message_id,
                position=position,
                kind=a.kind.value,
                mime_type=a.mime_type,
                media_ref=a.media_ref,
                size=a.size,
                file_name=a.file_name,
                caption=a.caption,
                sha256=a.sha256,
                stored_path=a.stored_path,
                fetch_state="stored" if a.stored_path else "pending",
            )
            for message, message_id in zip(messages, ids, strict=True)
            for position, a in enumerate(message.attachments)
        ]
        ingest.ATTACHMENT_INSERT.ids(self.conn, rows)

    def _touch_tickets(self, ticket_of: list[int], told: set[int]) -> None:
        """Count the messages on their tickets; `told`: the tickets a message of more than a
        status request went to (an answer to a clarification, news to weigh again)."""
        counts: dict[int, int] = {}
        for ticket_id in ticket_of:
            counts[ticket_id] = counts.get(ticket_id, 0) + 1
        existing = [t for t in counts if t not in self.opened_ids]  # new ones were counted
        states = ingest.ticket_states(self.conn, existing)
        answered = [t for t in existing if t in told and states[t][0] == Status.CLARIFYING.value]
        for ticket_id in answered:
            # The reporter answered: the ticket goes back to the operators' queue, flagged.
            status, verified = states[ticket_id]
            outcome = decide(TicketFacts(Status(status), verified), Action.REPORTER_ANSWERED)
            ingest.reopen_for_answer(
                self.conn, ticket_id, outcome.to_state.value, self.verify_due_at
            )
            event = self._event(
                ticket_id, Action.REPORTER_ANSWERED.value, status, outcome.to_state.value
            )
            ingest.EVENT_INSERT.ids(self.conn, [event])
        self.outcome.changed_ticket_ids.extend(t for t in existing if t in told)
        # Activity is when we received it: a sender's clock (an email Date) may be wrong.
        ingest.add_messages_to_tickets(self.conn, {t: counts[t] for t in existing}, self.now)

    def _apply_update(self, update: MessageUpdate, raw_id: int) -> None:
        found = ingest.message_ids_by_external(
            self.conn, update.channel, [update.target_external_id]
        )
        if update.target_external_id not in found:
            return  # kept as a raw event; nothing of ours to change
        values: dict[str, Any] = {
            UpdateKind.REACTION: {"reaction": update.text or None},
            UpdateKind.EDIT: {"edited_text": update.text},
            UpdateKind.DELETE: {"deleted_at": update.sent_at},
        }[update.kind]
        ingest.update_message(self.conn, found[update.target_external_id], **values)

    def _apply_status(self, status: DeliveryStatus, raw_id: int) -> None:
        # Kept as a receipt first: it may beat the outbox's record of the platform's id.
        receipt = {
            "channel": status.channel,
            "platform_message_id": status.platform_message_id,
            "state": status.state.value,
            "at": status.at,
            "error_code": status.error_code,
            "error_message": status.error_message,
            "raw_event_id": raw_id,
        }
        ingest.insert_rows(self.conn, ingest.RECEIPTS, [receipt])
        found = ingest.outbound_by_platform_id(
            self.conn, status.channel, status.platform_message_id
        )
        if found is None:
            return
        message_id, current = found
        if not moves_forward(current, status.state.value):
            return
        values: dict[str, Any] = {"delivery_state": status.state.value}
        if status.state is DeliveryState.FAILED:
            values |= {"error_code": status.error_code, "error_message": status.error_message}
        ingest.update_message(self.conn, message_id, **values)

    def _event(
        self, ticket_id: int, action: str, from_state: str | None, to_state: str | None
    ) -> EventRow:
        return EventRow(
            ticket_id=ticket_id,
            at=self.now,
            actor=SYSTEM_ACTOR,
            action=action,
            from_state=from_state,
            to_state=to_state,
            data={},
        )


def _refs(message: InboundMessage) -> list[str]:
    refs = [message.reply_to] if message.reply_to else []
    return refs + [r for r in reversed(message.references) if r and r != message.reply_to]


def _error_of(item: Inbound) -> str | None:
    if isinstance(item, UnsupportedEvent):
        return item.reason
    if isinstance(item, InboundMessage):
        return item.parse_error
    return None
