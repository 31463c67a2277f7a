"""The reporter's answer to "is it fixed, and how satisfied are you?" after a resolve, pure.

"sudah 5", "Sudah beres, puas", "4" and "belum, masih bocor" are answers; anything that is not
(a new complaint, a photo) is a follow-up and threads as one (triage/threads.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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
