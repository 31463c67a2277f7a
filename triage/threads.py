"""Which ticket a message belongs to: the threading rules, pure."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from triage.states import OPEN_STATES


@lru_cache(maxsize=8)
def _number_pattern(prefix: str) -> re.Pattern[str]:
    return re.compile(rf"\b{re.escape(prefix)}-(\d{{4}})-(\d{{5,}})\b", re.IGNORECASE)


def ticket_numbers_in(text: str, prefix: str) -> list[str]:
    """Ticket numbers quoted in a text or subject, normalised to upper case."""
    return [
        f"{prefix}-{year}-{serial}" for year, serial in _number_pattern(prefix).findall(text or "")
    ]


def open_key(channel: str, reporter_id: int) -> str:
    """The key a reporter's intake-opened ticket holds while open (unique in the store)."""
    return f"{channel}:{reporter_id}"


def format_number(prefix: str, year: int, serial: int) -> str:
    return f"{prefix}-{year}-{serial:05d}"


# A follow-up never reopens a merged duplicate (its report lives on in the other ticket) nor
# what was not a report at all.
_NOT_REOPENED = frozenset({"duplicate", "spam"})


def may_reopen(
    status: str,
    resolution: str | None,
    closed_at: datetime | None,
    now: datetime,
    within: timedelta,
) -> bool:
    """Whether a reporter's follow-up reopens their final ticket (`[triage] reopen_within`)."""
    if status in OPEN_STATES or closed_at is None or resolution in _NOT_REOPENED:
        return False
    return now - closed_at <= within


@dataclass(frozen=True, slots=True)
class Quoted:
    """A ticket whose number a message quotes."""

    ticket_id: int
    status: str
    reporter_id: int
    number: str


@dataclass(frozen=True, slots=True)
class Candidates:
    """What intake found for one message: tickets it replies to or quotes, and the sender's
    own open and latest final ticket (ids)."""

    replied_to: Quoted | None = None  # the ticket of a message it replies to
    quoted: tuple[Quoted, ...] = ()  # the tickets whose numbers it quotes, in order
    reporter_open: int | None = None  # the reporter's open ticket on this channel
    reporter_id: int | None = None  # who sent it
    reporter_final: int | None = None  # the reporter's latest ticket on this channel, if final
    reopenable: frozenset[int] = frozenset()  # final tickets a message of theirs may reopen
    public: bool = False  # a post everyone reads and anyone may reply to (X, comments)


@dataclass(frozen=True, slots=True)
class Choice:
    ticket_id: int | None  # None: open a new ticket
    reopen: bool = False  # the ticket is final and this follow-up reopens it
    follows: int | None = None  # a closed ticket the new one continues, shown to operators
    mentions: tuple[str, ...] = ()  # other reporters' tickets it quotes, shown to operators


def choose_ticket(candidates: Candidates) -> Choice:
    """(a) the ticket of the message replied to, (b) a quoted ticket number of the sender's own,
    (c) the reporter's open ticket on the channel, (d) the reporter's latest ticket on the
    channel when it was resolved or closed recently (`reopenable`): the follow-up reopens it.
    A final ticket that may not be reopened is not joined: a new ticket follows it.

    A number quoted from someone else's ticket never threads: anyone who saw the number (on a
    screenshot, a public post) could otherwise write into that citizen's report. Nor does a
    public reply from someone else (on X or under a comment, where anyone may reply to
    anyone): the message goes where the sender's own would, and names the other ticket for
    the operator. A private reply into the thread (a mail the reporter forwarded to their
    office address) still joins: only those the reporter shared it with can reply to it.
    """
    me = candidates.reporter_id
    replied = candidates.replied_to
    # A reply leads into someone else's ticket only in private (a forwarded mail).
    foreign_reply = replied is not None and replied.reporter_id != me and candidates.public
    named = [replied] if foreign_reply else []
    named += [q for q in candidates.quoted if q.reporter_id != me]
    mentions = tuple(dict.fromkeys(q.number for q in named if q is not None))
    own_quoted = next((q for q in candidates.quoted if q.reporter_id == me), None)
    joined_reply = None if foreign_reply else replied
    closed: int | None = None
    for found in filter(None, (joined_reply, own_quoted)):
        if found.status in OPEN_STATES:
            return Choice(found.ticket_id, mentions=mentions)
        if found.ticket_id in candidates.reopenable and candidates.reporter_open is None:
            return Choice(found.ticket_id, reopen=True, mentions=mentions)
        closed = closed or found.ticket_id
    if candidates.reporter_open is not None:
        return Choice(candidates.reporter_open, mentions=mentions)
    latest = candidates.reporter_final
    if closed is None and latest is not None and latest in candidates.reopenable:
        return Choice(latest, reopen=True, mentions=mentions)
    return Choice(None, follows=closed or latest, mentions=mentions)
