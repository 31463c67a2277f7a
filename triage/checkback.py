"""The reporter's answer to "is it fixed, and how satisfied are you?" after a resolve, pure.

"sudah 5", "Sudah beres, puas", "4" and "belum, masih bocor" are answers; anything that is not
(a new complaint, a photo) is a follow-up and threads as one (triage/threads.py). Where the
channel has reply buttons (WhatsApp) the question also offers `choices`, and a pressed button is
read by its id, never by its words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from channels.base import Choice
from triage import messages

_FIXED = frozenset({"sudah", "beres", "selesai", "ya", "iya", "yes", "fixed", "done", "mantap"})
_NOT_FIXED = frozenset({"belum", "tidak", "no", "not", "masih"})
_PLEASED = frozenset({"puas", "bagus", "baik", "terima", "kasih", "makasih", "thanks", "good"})
_FILLER = frozenset(
    {"sudah", "pak", "bu", "min", "kak", "nilai", "saya", "dan", "nya", "ok", "oke"}
)
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_RATING = re.compile(r"^[1-5]$")


@dataclass(frozen=True, slots=True)
class CheckBack:
    fixed: bool | None  # None: the reporter only rated
    rating: int | None  # 1-5, None when not given
    words: str  # what the reporter wrote, kept for the OPD when it is not fixed


def checkback_answer(text: str, *, has_media: bool = False) -> CheckBack | None:
    """The answer `text` is, or None when it is something else."""
    words = [w.casefold() for w in _WORD.findall(text or "")]
    if not words:
        return None
    ratings = [int(w) for w in words if _RATING.match(w)]
    rating = ratings[0] if len(ratings) == 1 else None
    if words[0] in _NOT_FIXED or "tidak puas" in " ".join(words):
        # "belum, lubangnya masih ada": the rest is the reporter's words for the OPD.
        return CheckBack(False, rating, text.strip())
    if has_media:
        return None
    known = _FIXED | _PLEASED | _FILLER
    if any(w not in known and not _RATING.match(w) for w in words) or len(ratings) > 1:
        return None
    fixed = True if any(w in _FIXED or w in _PLEASED for w in words) else None
    if fixed is None and rating is None:
        return None
    return CheckBack(fixed, rating, text.strip())


# The buttons: fixed and pleased, fixed but not pleased, not fixed. A button says "puas" or
# "tidak puas", which the question's scale (1-5, 5 = sangat puas) puts at 4 and 2; a reporter
# who wants to say more writes the figure, which is still read.
_BUTTONS: dict[str, tuple[bool, int | None]] = {
    "checkback:pleased": (True, 4),
    "checkback:displeased": (True, 2),
    "checkback:not_fixed": (False, None),
}


def choices(locale: str) -> tuple[Choice, ...]:
    """The check-back's answers as buttons, titled in the reporter's language."""
    return tuple(
        Choice(id=key, title=messages.render(f"checkback.button.{key.split(':')[1]}", locale))
        for key in _BUTTONS
    )


def checkback_choice(choice: str | None, text: str) -> CheckBack | None:
    """The answer a pressed check-back button is, or None when `choice` is none of them."""
    if choice not in _BUTTONS:
        return None
    fixed, rating = _BUTTONS[choice]
    return CheckBack(fixed, rating, (text or "").strip())
