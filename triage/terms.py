"""A text as the terms category keywords are matched on: negations kept, landmarks left out.

Each term is one content word with the forms it may be matched by: its root and its own form
("pekerjaan" is both kerja and pekerjaan). Three readings keep the meaning bare stems lose:

- Negation: "tidak", "belum", "bukan" (and informal "gak", "tak", "blm" ...) mark the next
  content word, past modal words ("tidak pernah dapat"): "tidak mengalir" is "!alir". A negated
  keyword ("air tidak mengalir") matches only the negated word, never "air mengalir"; a plain
  keyword ("perbaikan jalan") matches it either way, since "jalan tidak diperbaiki" is still
  about road repair. "tidak ada X" negates only the having: X stays plain.
- Landmarks: the word after a preposition of place ("depan", "dekat", "samping", "belakang",
  "sebelah", "seberang", "sekitar", "tepi", "pinggir") says where, not what, and is left out
  with the name or number that follows it ("di belakang SMK Negeri 2", "samping bank").
- Addresses: "Desa Sukoharjo Kec. Wedarijaksa", "RT 03 RW 02", "Perum Griya Kencana" say where;
  the area word and the capitalised names and numbers after it are left out, so they neither
  hit a keyword nor hold a keyword's words apart. After "Jl./jalan" only the name goes: the
  road itself may be the topic.

Config keywords go through the same reading, so a keyword may hold a negation itself
("air tidak mengalir").
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from triage.stemmer import STOP_WORDS, base_form, specific_form, stem, word_tokens

# "tanpa X" is not among them: like "tidak ada X" it says X is missing, and X is the topic
# ("PHK tanpa pesangon" is about severance pay).
NEGATORS = frozenset({"tidak", "belum", "bukan"})
# A negation reaches past stop words and modals ("tidak pernah dapat", "belum juga
# diperbaiki") to the next content word, but not past a clause break.
_MODALS = frozenset(
    "pernah bisa mau akan kunjung sempat boleh perlu usah terlalu begitu pula segera".split()
)
_CLAUSE_BREAKS = frozenset("yang dan atau tapi tetapi karena padahal namun sedangkan".split())
_HAVING = frozenset({"ada", "punya"})  # "tidak ada lampu": the lamp is still the topic
PLACE_MARKERS = frozenset(
    "depan dekat samping belakang sebelah seberang sekitar tepi pinggir".split()
)
# Words between a place preposition and its landmark: "sebelah kiri masjid", "persis depan".
_PLACE_FILLERS = frozenset(
    "kiri kanan persis pas tepat utara selatan timur barat arah sisi area".split()
)
# Words that start an address: they and the names and numbers after them say where.
AREA_WORDS = frozenset(
    "desa dukuh dusun kelurahan kecamatan kabupaten kampung perum perumahan gang gg rt rw"
    " blok".split()
)


@dataclass(frozen=True, slots=True)
class Term:
    word: str  # the word as read (informal spelling normalised)
    forms: frozenset[str]  # what a keyword's word may match it by; "!" marks a negated one


def report_terms(text: str) -> tuple[Term, ...]:
    """The content terms of a report, in order (see the module docstring)."""
    return _terms(text)


@lru_cache(maxsize=4096)
def keyword_forms(keyword: str) -> tuple[str, ...]:
    """The form each word of a config keyword is matched by: its own form when that means
    something other than its root ("pekerja", "kebakaran"), else the root."""
    return tuple(_keyword_form(term) for term in _terms(keyword))


def _keyword_form(term: Term) -> str:
    negated = term.word.startswith("!")
    word = term.word.lstrip("!")
    form = specific_form(word) or stem(word)
    return "!" + form if negated else form


@lru_cache(maxsize=256)
def _terms(text: str) -> tuple[Term, ...]:
    words = word_tokens(text)
    found: list[Term] = []
    negate = False
    i = 0
    while i < len(words):
        word = words[i][0]
        i += 1
        if word in NEGATORS:
            negate = True
            continue
        if word in PLACE_MARKERS:
            i = _past_landmark(words, i)
            negate = False
            continue
        if word in AREA_WORDS:
            i = _past_name(words, i)
            continue
        if negate and word in _HAVING:
            negate = False
            continue
        if word in STOP_WORDS or word in _MODALS or word.isdigit():
            negate = negate and word not in _CLAUSE_BREAKS
            continue
        forms = {stem(word), base_form(word)}
        if negate:
            # A negated word is still about its topic ("jalan tidak diperbaiki" is a road
            # repair report), so plain keywords match it; only a negated keyword asks for it.
            found.append(Term("!" + word, frozenset(forms | {"!" + f for f in forms})))
        else:
            found.append(Term(word, frozenset(forms)))
        negate = False
        if word == "jalan":
            i = _past_name(words, i)
    return tuple(found)


def _past_landmark(words: list[tuple[str, bool]], i: int) -> int:
    """Where reading resumes after the landmark that starts at `i`: its head word and the
    names or numbers right after it ("SDN 2 Tlogowungu") are skipped."""
    while i < len(words) and (words[i][0] in _PLACE_FILLERS or words[i][0] in STOP_WORDS):
        i += 1
    if i < len(words):
        i += 1  # the landmark itself: "SD", "masjid", "bank"
    return _past_name(words, i)


def _past_name(words: list[tuple[str, bool]], i: int) -> int:
    """Where reading resumes after the capitalised words and numbers that start at `i`."""
    while i < len(words) and (words[i][1] or words[i][0].isdigit() or words[i][0] in AREA_WORDS):
        i += 1
    return i
