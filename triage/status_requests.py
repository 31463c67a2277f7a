"""A reporter asking how their report stands ("cek", "status", or just the number), pure.

Such a message is answered with the report's status and is never a new ticket. It must be only
the question: "LBP-2026-00012" or "cek status laporan LBP-2026-00012?" is one, "LBP-2026-00012
masih rusak" is news about the report and threads as usual.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from triage.threads import ticket_numbers_in

# Words that ask (at least one of them, or a number, must be there) ...
_ASKING = frozenset({"cek", "check", "status", "info", "perkembangan", "progres", "progress"})
# ... and words that may come with them without making the message a report.
_FILLER = frozenset(
    {
        "laporan",
        "lapor",
        "nomor",
        "no",
        "nomer",
        "saya",
        "aduan",
        "tiket",
        "ticket",
        "mohon",
        "tolong",
        "bagaimana",
        "gimana",
        "min",
        "kak",
        "pak",
        "bu",
        "dong",
        "ya",
        "untuk",
        "tentang",
    }
)
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class StatusRequest:
    numbers: tuple[str, ...]  # the ticket numbers it names; () asks about the latest report


def status_request(
    text: str, prefix: str, *, has_media: bool = False, has_location: bool = False
) -> StatusRequest | None:
    """The status request `text` is, or None when it says anything more."""
    if has_media or has_location or not text.strip():
        return None
    numbers = ticket_numbers_in(text, prefix)
    rest = _number_free(text, prefix)
    words = [w.casefold() for w in _WORD.findall(rest)]
    if any(w not in _ASKING and w not in _FILLER for w in words):
        return None
    if not numbers and not any(w in _ASKING for w in words):
        return None
    return StatusRequest(tuple(dict.fromkeys(numbers)))


def _number_free(text: str, prefix: str) -> str:
    return re.sub(rf"\b{re.escape(prefix)}-\d{{4}}-\d{{5,}}\b", " ", text, flags=re.IGNORECASE)
