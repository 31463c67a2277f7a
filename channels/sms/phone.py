"""Phone numbers as SMS senders write them, in the one form Kanal keeps, the way WhatsApp gives
them: digits with the country code ("6281234567890"), and "+6281234567890" to reach the reporter.

A phone passes on what the network said: "+6281234567890" mostly, but also the national
"081234567890", "0062…", spaces and dashes, short codes ("1708") and alphanumeric senders of
operators and banks ("TELKOMSEL"), which are kept as they are and cannot be answered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

COUNTRY_CODE = "62"  # Indonesia: a national number "08…" is "+628…"
_SEPARATORS = re.compile(r"[\s\-().]")
_DIGITS = re.compile(r"\d+")
# E.164: at most 15 digits; the gateway refuses anything else unless told to skip the check.
_INTERNATIONAL = re.compile(r"[1-9]\d{6,14}")


@dataclass(frozen=True, slots=True)
class Sender:
    sender_id: str  # digits with the country code, or the sender as sent when it is no number
    contact: str  # "+<digits>" for a phone number, else the sender as sent

    @property
    def reachable(self) -> bool:
        return self.contact.startswith("+")


def sender_of(raw: str) -> Sender:
    """The sender in Kanal's form; never raises (an empty `raw` is the caller's to refuse)."""
    shown = raw.strip()
    compact = _SEPARATORS.sub("", shown)
    digits = _international_digits(compact)
    if digits is not None and _INTERNATIONAL.fullmatch(digits):
        return Sender(digits, "+" + digits)
    return Sender(compact or shown, compact or shown)


def recipient_number(recipient_id: str, contact: str | None) -> str | None:
    """The E.164 number to send to, or None when the reporter wrote from no phone number."""
    for candidate in (contact, recipient_id):
        if candidate:
            sender = sender_of(candidate)
            if sender.reachable:
                return sender.contact
    return None


def _international_digits(compact: str) -> str | None:
    if compact.startswith("+"):
        rest = compact[1:]
    elif compact.startswith("00"):
        rest = compact[2:]
    elif compact.startswith("0"):
        rest = COUNTRY_CODE + compact[1:]
    elif compact.startswith(COUNTRY_CODE):
        rest = compact
    else:
        return None  # a short code, or a foreign number written without its "+"
    return rest if _DIGITS.fullmatch(rest) else None
