"""Which ticket a message belongs to: the threading rules, pure."""

from __future__ import annotations

import re
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class Candidates:
    """What intake found for one message: each as (ticket id, status), or None."""

    replied_to: tuple[int, str] | None = None  # the ticket of a message it replies to
    quoted_number: tuple[int, str] | None = None  # a ticket whose number it quotes
    reporter_open: int | None = None  # the reporter's open ticket on this channel


@dataclass(frozen=True, slots=True)
class Choice:
    ticket_id: int | None  # None: open a new ticket
    follows: int | None = None  # a closed ticket the new one continues, shown to operators


def choose_ticket(candidates: Candidates) -> Choice:
    """(a) the ticket of the message replied to, (b) a quoted ticket number, (c) the reporter's
    open ticket on the channel; a closed ticket is not reopened by a message, a new one follows it.
    """
    closed: int | None = None
    for found in (candidates.replied_to, candidates.quoted_number):
        if found is None:
            continue
        ticket_id, status = found
        if status in OPEN_STATES:
            return Choice(ticket_id)
        closed = closed or ticket_id
    if candidates.reporter_open is not None:
        return Choice(candidates.reporter_open)
    return Choice(None, follows=closed)
