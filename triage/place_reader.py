"""What a report's text says about where: the area names it writes, with the words around each,
and the other clues to a location (a street, RT/RW, coordinates, a map link, a named landmark).
A kode pos is read as the kecamatan it serves.

Reading is the same for every region; `triage.jurisdiction` decides what the names mean for
one region. A name is looked up whole, longest first, written with or without spaces
("Gunung Wungkal", "Gunungwungkal").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from triage.gazetteer import Area, Gazetteer
from triage.place_words import (
    HAMLET_WORDS,
    KIND_WORDS,
    LANDMARKS,
    LOCATIVES,
    PERSON_TITLES,
    ROUTE_WORDS,
    SELF_WORDS,
    STREET_QUALIFIERS,
    STREET_WORDS,
    is_common_name,
    is_word,
)

Cue = Literal["kind", "near", "landmark", "none"]
ClueKind = Literal["street", "rt_rw", "coordinates", "map_link", "landmark", "hamlet"]

_TOKEN = re.compile(r"[^\W_]+")
_LONGEST = 4  # words in the longest name looked up
_NOT_NAMES = KIND_WORDS.keys() | LOCATIVES | STREET_WORDS | HAMLET_WORDS | PERSON_TITLES
_RT_RW = re.compile(r"\b(?:rt|rw)\s*(?:/\s*rw\s*)?[.:]?\s*0*\d{1,3}\b", re.IGNORECASE)
# Decimal latitude and longitude, as map apps copy them: "-6.7421, 111.0527".
_COORDINATES = re.compile(r"(-?\d{1,2}\.\d{3,})\s*[,;/ ]\s*(-?\d{2,3}\.\d{3,})")
# "kode pos 59154", "kodepos: 59154", or five digits right after a place ("Pati 59112").
_POSTCODE_WORDS = re.compile(r"(?:kode\s*pos|kodepos|kd\.?\s*pos)\s*[:.]?\s*$", re.IGNORECASE)
_CLAUSE_END = re.compile(r"[.,;:!?()\n]")
_MAP_LINK = re.compile(r"maps\.app\.goo\.gl|goo\.gl/maps|maps\.google\.|google\.[a-z.]+/maps")


@dataclass(frozen=True, slots=True)
class Token:
    text: str  # as written
    word: str  # lower case
    start: int  # offsets in the text
    end: int


@dataclass(frozen=True, slots=True)
class Mention:
    """A name of areas in the text, with what precedes it."""

    first: int  # token indices, end exclusive
    last: int
    words: str  # as written, with the kind or locative word before it: "ds. Kajen"
    areas: tuple[Area, ...]  # every area of that name
    cue: Cue  # "kind": desa/kec./kab./kota/provinsi; "near": di, dekat, warga...; landmark
    kind: str | None  # the kind word's level: "desa", "kecamatan", "kabupaten", "kota"...
    common: bool  # the name is also ordinary words
    in_street: bool  # part of a street's name ("Jl. Raya Pati-Kudus")
    en_route: bool  # after "dari", "ke", "arah", "asal"...: an origin or a destination


@dataclass(frozen=True, slots=True)
class Clue:
    kind: ClueKind
    words: str


@dataclass(slots=True)
class Reading:
    mentions: list[Mention] = field(default_factory=list)
    clues: list[Clue] = field(default_factory=list)
    point: tuple[float, float] | None = None  # (latitude, longitude) written in the text


def read_places(text: str, gazetteer: Gazetteer) -> Reading:
    tokens = [
        Token(m.group(), m.group().casefold(), m.start(), m.end()) for m in _TOKEN.finditer(text)
    ]
    title_case = _title_case(tokens)
    reading = Reading()
    streets = _streets(text, tokens, gazetteer, title_case, reading)
    _landmarks(text, tokens, title_case, reading)
    i = 0
    while i < len(tokens):
        found = _name_at(tokens, i, gazetteer)
        if found is None:
            i += 1
            continue
        last, areas = found
        mention = _mention(text, tokens, i, last, areas, streets, reading)
        if mention is not None:
            reading.mentions.append(mention)
        i = last
    _postcodes(text, tokens, gazetteer, reading)
    reading.mentions.sort(key=lambda m: m.first)
    _other_clues(text, reading)
    return reading


def _postcodes(text: str, tokens: list[Token], gazetteer: Gazetteer, reading: Reading) -> None:
    """A kode pos, written as one or right after a place's name, names its kecamatan."""
    after_names = {m.last for m in reading.mentions}
    for i, token in enumerate(tokens):
        if not (len(token.word) == 5 and token.word.isdigit()):
            continue
        written = _POSTCODE_WORDS.search(text, 0, token.start)
        if not (written or i in after_names):
            continue
        areas = gazetteer.by_postcode(token.word)
        if areas:
            start = written.start() if written else token.start
            words = text[start : token.end]
            reading.mentions.append(
                Mention(i, i + 1, words, areas, "kind", "kecamatan", False, False, False)
            )


def _name_at(
    tokens: list[Token], i: int, gazetteer: Gazetteer
) -> tuple[int, tuple[Area, ...]] | None:
    if tokens[i].word in _NOT_NAMES or not tokens[i].word.isalpha():
        return None
    for n in range(min(_LONGEST, len(tokens) - i), 0, -1):
        words = [t.word for t in tokens[i : i + n]]
        if n > 1 and not all(w.isalpha() and w not in _NOT_NAMES for w in words):
            continue
        name = "".join(words)
        if len(name) < 4:
            continue
        areas = gazetteer.named(name)
        if areas:
            return i + n, areas
    return None


def _mention(
    text: str,
    tokens: list[Token],
    first: int,
    last: int,
    areas: tuple[Area, ...],
    streets: set[int],
    reading: Reading,
) -> Mention | None:
    before = tokens[first - 1].word if first > 0 else ""
    if before in PERSON_TITLES:
        return None
    if before in HAMLET_WORDS:  # a hamlet of that name, not the village or kecamatan
        reading.clues.append(Clue("hamlet", text[tokens[first - 1].start : tokens[last - 1].end]))
        return None
    cue: Cue = "none"
    kind = None
    start = tokens[first].start
    route = first - 1
    if before in KIND_WORDS:
        cue, kind, start = "kind", KIND_WORDS[before], tokens[first - 1].start
        route -= 1
    elif before in LOCATIVES:
        cue, start = "near", tokens[first - 1].start
    elif before in LANDMARKS or (
        before.isdigit() and first > 1 and tokens[first - 2].word in LANDMARKS
    ):
        cue = "landmark"
    return Mention(
        first=first,
        last=last,
        words=text[start : tokens[last - 1].end],
        areas=areas,
        cue=cue,
        kind=kind,
        common=is_common_name(tuple(t.word for t in tokens[first:last])),
        in_street=first in streets,
        en_route=_en_route(text, tokens, route),
    )


def _en_route(text: str, tokens: list[Token], at: int) -> bool:
    """Whether a word of a route or origin leads to the name after `at`, within a few words of
    the same clause ("dirujuk ke RS Kariadi Semarang"), and not after a locative ("di")."""
    for i in range(at, max(at - 3, -1), -1):
        word = tokens[i].word
        if word in ROUTE_WORDS:
            return not (i > 0 and tokens[i - 1].word in SELF_WORDS)
        if word in LOCATIVES or (
            i > 0 and _CLAUSE_END.search(text, tokens[i - 1].end, tokens[i].start)
        ):
            return False
    return False


def _title_case(tokens: list[Token]) -> bool:
    """Whether most words are capitalised: then a capital says nothing about a name."""
    words = [t for t in tokens if t.text.isalpha()]
    return bool(words) and sum(t.text[0].isupper() for t in words) * 2 > len(words)


def _is_name(token: Token, title_case: bool) -> bool:
    """Whether a word after a street or landmark word reads as its proper name."""
    if token.word in _NOT_NAMES or token.word in LANDMARKS:
        return False
    if not token.word.isalpha():
        return False
    if not is_word(token.word):
        return len(token.word) >= 3
    return token.text[0].isupper() and not title_case


def _streets(
    text: str, tokens: list[Token], gazetteer: Gazetteer, title_case: bool, reading: Reading
) -> set[int]:
    """Find "Jl./Jalan/Gg. + name"; return the indices of the words of street names."""
    inside: set[int] = set()
    for i, token in enumerate(tokens):
        if token.word not in STREET_WORDS:
            continue
        j = i + 1
        while j < len(tokens) and tokens[j].word in STREET_QUALIFIERS:
            j += 1
        names = j
        while names < len(tokens) and names - j < 3:
            if names > j and _ends_street(text, tokens, names, gazetteer):
                break
            following = tokens[names]
            alley_number = token.word in {"gg", "gang"} and following.word.isdigit()
            # A title before the name ("Jl. Sunan Muria", "Jl. Kolonel Sunandar") is capitalised.
            titled = (
                following.text[0].isupper()
                and following.word not in _NOT_NAMES
                and names + 1 < len(tokens)
                and _is_name(tokens[names + 1], title_case)
            )
            if not (_is_name(following, title_case) or alley_number or titled):
                break
            names += 1
        if names > j:
            while names < len(tokens) and tokens[names].word.isdigit():  # "Melati 3"
                names += 1
            inside.update(range(i + 1, names))
            reading.clues.append(Clue("street", text[token.start : tokens[names - 1].end]))
    return inside


def _ends_street(text: str, tokens: list[Token], at: int, gazetteer: Gazetteer) -> bool:
    """A regency's or province's name after a street's ("Jl. Ahmad Yani Surabaya") is where
    the street is, unless a dash makes both one road's ends ("Jl. Raya Pati-Kudus")."""
    between = text[tokens[at - 1].end : tokens[at].start]
    if "-" in between or "–" in between:
        return False
    return any(area.level <= 2 for area in gazetteer.named(tokens[at].word))


def _landmarks(text: str, tokens: list[Token], title_case: bool, reading: Reading) -> None:
    """Find "SDN 2 Kayen", "pasar Puri", "RSUD Soewondo": a kind of landmark and its name."""
    for i, token in enumerate(tokens):
        if token.word not in LANDMARKS:
            continue
        j = i + 1
        while j < len(tokens) and (tokens[j].word.isdigit() or tokens[j].word == token.word):
            j += 1
        if j < len(tokens) and _is_name(tokens[j], title_case):
            reading.clues.append(Clue("landmark", text[token.start : tokens[j].end]))


def _other_clues(text: str, reading: Reading) -> None:
    for match in _RT_RW.finditer(text):
        reading.clues.append(Clue("rt_rw", match.group()))
    for match in _COORDINATES.finditer(text):
        latitude, longitude = float(match.group(1)), float(match.group(2))
        if -11.5 <= latitude <= 6.5 and 94.5 <= longitude <= 141.5:  # Indonesia
            reading.clues.append(Clue("coordinates", match.group()))
            reading.point = reading.point or (latitude, longitude)
    for match in _MAP_LINK.finditer(text.casefold()):
        reading.clues.append(Clue("map_link", match.group()))
