"""Is a report probably outside the region? By its map location, and by the places it names.

The flag is a hint for the operator, who decides. A location sent with the report is the
stronger evidence: inside the boundary clears the flag, outside raises it. Without one, the text
is read: a report that names places of a neighbouring regency or city and none of ours is flagged.
A name both regions use (Gabus is a kecamatan of Pati and of Grobogan) counts as ours unless the
text also names the other regency. When a kota and a kabupaten share a name (Kota and Kabupaten
Pasuruan), list the twin as a neighbour: its bare name is then read as ours, and only
"kabupaten ..."/"kota ..." written out points to the other one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from triage.config import JurisdictionConfig
from triage.messages import render
from triage.stemmer import tokens

Ring = Sequence[tuple[float, float]]  # (longitude, latitude) pairs, as GeoJSON writes them
_CONTEXT = r"(?:kecamatan|desa|kelurahan|dukuh) "
_KINDS = ("kabupaten", "kota")


@dataclass(frozen=True, slots=True)
class JurisdictionCheck:
    flag: bool  # probably outside the region
    reason: str | None  # for operators, in the requested locale
    inside: tuple[str, ...]  # places of the region the text names
    outside: tuple[str, ...]  # places elsewhere the text names
    point_inside: bool | None = None  # None without a location or a boundary


class Boundary:
    """The region's area: polygons of (lon, lat) rings, the first outer, the rest holes."""

    def __init__(self, polygons: Sequence[Sequence[Ring]]) -> None:
        if not polygons:
            raise ValueError("a boundary needs at least one polygon")
        self.polygons = polygons

    @classmethod
    def load(cls, path: Path) -> Boundary:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            return cls.from_geojson(document)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"boundary file {path}: {exc}") from exc

    @classmethod
    def from_geojson(cls, document: dict[str, Any]) -> Boundary:
        """A Polygon or MultiPolygon, bare or in a Feature or FeatureCollection."""
        return cls(list(_polygons(document)))

    def contains(self, latitude: float, longitude: float) -> bool:
        return any(
            _in_ring(longitude, latitude, rings[0])
            and not any(_in_ring(longitude, latitude, hole) for hole in rings[1:])
            for rings in self.polygons
        )


class Jurisdiction:
    """The region's place names, its neighbours' and an optional boundary, compiled once."""

    def __init__(
        self, config: JurisdictionConfig, region: str, boundary: Boundary | None = None
    ) -> None:
        self.region = region  # as shown to people, e.g. "Kabupaten Pati"
        self.boundary = boundary
        context_only = {name.casefold() for name in config.context_only}
        twin_kinds = [n.kind for n in config.neighbour if _same(n.name, config.name)]
        own_name = _pattern(config.name, excluded_kinds=twin_kinds)
        # (place, pattern, the letters any match holds): see `_letters`.
        self._inside = [
            (f"{config.kind.capitalize()} {config.name}", own_name, _letters(config.name))
        ]
        own = [p for p in config.kecamatan + config.villages if not _same(p, config.name)]
        self._inside += _places(own, context_only)
        # (place, pattern, letters, regency)
        self._outside: list[tuple[str, re.Pattern[str], str, str]] = []
        self._shared: dict[str, set[str]] = {}  # place -> the neighbours that also have it
        own_keys = {_key(p) for p in own}
        self._villages = {_key(p) for p in config.villages}
        for neighbour in config.neighbour:
            regency = f"{neighbour.kind.capitalize()} {neighbour.name}"
            twin = _same(neighbour.name, config.name)
            pattern = _pattern(neighbour.name, kind=neighbour.kind, twin=twin)
            self._outside.append((regency, pattern, _letters(neighbour.name), regency))
            places = [p for p in neighbour.kecamatan if not _same(p, neighbour.name)]
            for place, pattern, letters in _places(places, context_only):
                if _key(place) in own_keys:
                    self._shared.setdefault(_key(place), set()).add(regency)
                else:
                    self._outside.append((place, pattern, letters, regency))

    @classmethod
    def from_config(cls, config: JurisdictionConfig, region: str, base: Path) -> Jurisdiction:
        """Load the boundary file (relative to `base`, the config file's folder) if one is set."""
        boundary = None
        if config.boundary is not None:
            boundary = Boundary.load(
                config.boundary if config.boundary.is_absolute() else base / config.boundary
            )
        return cls(config, region, boundary)

    def names_village(self, check: JurisdictionCheck) -> bool:
        """Whether a checked text named one of the region's villages (precise enough to go)."""
        return any(_key(place) in self._villages for place in check.inside)

    def places(self, text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(inside, outside): the places of the region and of elsewhere that `text` names."""
        normal = " ".join(tokens(text))
        squeezed = normal.replace(" ", "")  # most names are not in it: no regex needed then
        outside = [
            (p, regency)
            for p, pattern, letters, regency in self._outside
            if letters in squeezed and pattern.search(normal)
        ]
        named_regencies = {regency for p, regency in outside if p == regency}
        inside = [
            place
            for place, pattern, letters in self._inside
            if letters in squeezed
            and pattern.search(normal)
            and not (self._shared.get(_key(place), set()) & named_regencies)
        ]
        return tuple(inside), tuple(dict.fromkeys(p for p, _ in outside))

    def check(
        self, text: str, location: tuple[float, float] | None = None, locale: str = "id"
    ) -> JurisdictionCheck:
        """Whether a report (its text, and its (latitude, longitude) if sent) is outside."""
        inside, outside = self.places(text)
        point_inside = None
        if location is not None and self.boundary is not None:
            point_inside = self.boundary.contains(*location)
        if point_inside is False:
            reason = render("operator.jurisdiction.point_outside", locale, region=self.region)
            return JurisdictionCheck(True, reason, inside, outside, point_inside)
        if point_inside is None and outside and not inside:
            reason = render(
                "operator.jurisdiction.names_outside",
                locale,
                region=self.region,
                places=", ".join(outside),
            )
            return JurisdictionCheck(True, reason, inside, outside, point_inside)
        return JurisdictionCheck(False, None, inside, outside, point_inside)


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.casefold())


def _same(a: str, b: str) -> bool:
    return _key(a) == _key(b)


def _words(name: str) -> str:
    """A name as a pattern that also matches it written with or without spaces."""
    letters = _key(name)
    if len(letters) >= 8:  # compounds such as Gunungwungkal / Gunung Wungkal
        return r"\s?".join(re.escape(c) for c in letters)
    return r"\s?".join(re.escape(w) for w in tokens(name))


def _letters(name: str) -> str:
    """The letters every match of `_words(name)` holds in a row once spaces are left out: a
    text without them cannot name the place, which a substring test tells faster than a regex."""
    letters = _key(name)
    return letters if len(letters) >= 8 else "".join(tokens(name))


def _bounded(body: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![a-z0-9]){body}(?![a-z0-9])")


def _pattern(
    name: str, *, kind: str | None = None, twin: bool = False, excluded_kinds: Iterable[str] = ()
) -> re.Pattern[str]:
    """A regency or city name: bare, or after its kind word (which a twin requires)."""
    body = _words(name)
    if kind is not None:
        return _bounded(f"{kind} {body}" if twin else f"(?:{kind} )?{body}")
    exclusions = "".join(f"(?<!{k} )" for k in sorted(set(excluded_kinds)) if k in _KINDS)
    return _bounded(exclusions + body)


def _places(names: Iterable[str], context_only: set[str]) -> list[tuple[str, re.Pattern[str], str]]:
    return [
        (
            name,
            _bounded((_CONTEXT if name.casefold() in context_only else "") + _words(name)),
            _letters(name),
        )
        for name in names
    ]


def _polygons(document: dict[str, Any]) -> Iterable[list[Ring]]:
    kind = document["type"]
    if kind == "FeatureCollection":
        for feature in document["features"]:
            yield from _polygons(feature)
    elif kind == "Feature":
        yield from _polygons(document["geometry"])
    elif kind == "Polygon":
        yield _rings(document["coordinates"])
    elif kind == "MultiPolygon":
        for polygon in document["coordinates"]:
            yield _rings(polygon)
    else:
        raise ValueError(f"expected a Polygon or MultiPolygon, found {kind}")


def _rings(coordinates: list[list[list[float]]]) -> list[Ring]:
    rings = [[(float(p[0]), float(p[1])) for p in ring] for ring in coordinates]
    if not rings or any(len(ring) < 4 for ring in rings):
        raise ValueError("a polygon ring needs at least four positions")
    return rings


def _in_ring(x: float, y: float, ring: Ring) -> bool:
    """Ray casting: a ray from the point crosses the ring's edges an odd number of times."""
    inside = False
    for (x1, y1), (x2, y2) in zip(ring, [*ring[1:], ring[0]], strict=True):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside
