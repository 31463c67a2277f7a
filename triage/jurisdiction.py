"""Is a report probably outside the region? By its map location, and by the places it names.

The flag is a hint for the operator, who decides. A location sent with the report (or
coordinates written in it) is the stronger evidence when a boundary is configured: inside clears
the flag, outside raises it. Without one, the text is read against the national gazetteer
(triage.gazetteer): a report that names another kabupaten/kota or province, or a kecamatan or
village of one, and no place of the region is flagged. Which names count is decided in
triage.place_resolution; every name read is kept as evidence for the operator.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from triage.config import JurisdictionConfig
from triage.gazetteer import Area, Gazetteer
from triage.messages import render
from triage.place_reader import read_places
from triage.place_resolution import Resolved, resolve

Ring = Sequence[tuple[float, float]]  # (longitude, latitude) pairs, as GeoJSON writes them


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


@dataclass(frozen=True, slots=True)
class PlaceEvidence:
    """What the operator is shown: the words of the report and what they were read as."""

    words: str  # as the reporter wrote them: "ds. Kajen", "Jl. Sudirman", "rt 03 rw 02"
    place: str  # what they mean: "Desa Kajen, Kecamatan Margoyoso, Kabupaten Pati"; "" for clues
    side: Literal["inside", "outside", "location"]  # "location": a clue to where, in no area


@dataclass(frozen=True, slots=True)
class JurisdictionCheck:
    flag: bool  # probably outside the region
    reason: str | None  # for operators, in the requested locale
    inside: tuple[str, ...]  # places of the region the text names
    outside: tuple[str, ...]  # places elsewhere the text names
    point_inside: bool | None = None  # None without a location or a boundary
    evidence: tuple[PlaceEvidence, ...] = ()
    located: bool = False  # the report says where: a place, street, RT/RW, point or landmark


class Jurisdiction:
    """The region in the national gazetteer, and an optional boundary, ready once at start."""

    def __init__(
        self, region: str, boundary: Boundary | None = None, gazetteer: Gazetteer | None = None
    ) -> None:
        """`region` is the kabupaten/kota's exact name ("Kabupaten Pati") or its code."""
        self.gazetteer = gazetteer or Gazetteer.national()
        by_code = region.replace(".", "").isdigit()
        self.area = self.gazetteer.region(**({"code": region} if by_code else {"name": region}))
        self.region = self.area.name  # as shown to people, e.g. "Kabupaten Pati"
        self.boundary = boundary

    @classmethod
    def from_config(cls, config: JurisdictionConfig, region: str, base: Path) -> Jurisdiction:
        """Load the boundary file (relative to `base`, the config file's folder) if one is set."""
        boundary = None
        if config.boundary is not None:
            boundary = Boundary.load(
                config.boundary if config.boundary.is_absolute() else base / config.boundary
            )
        return cls(region, boundary)

    def places(self, text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(inside, outside): the places of the region and of elsewhere that `text` names."""
        check = self.check(text)
        return check.inside, check.outside

    def check(
        self, text: str, location: tuple[float, float] | None = None, locale: str = "id"
    ) -> JurisdictionCheck:
        """Whether a report (its text, and its (latitude, longitude) if sent) is outside."""
        reading = read_places(text, self.gazetteer)
        resolved = resolve(reading.mentions, self.area)
        inside = _names(r for r in resolved if r.inside)
        outside = _names(r for r in resolved if not r.inside)
        evidence = tuple(self._evidence(r) for r in resolved) + tuple(
            PlaceEvidence(clue.words, "", "location") for clue in reading.clues
        )
        point = location or reading.point
        located = bool(location or reading.clues or any(r.locates for r in resolved))
        point_inside = None
        if point is not None and self.boundary is not None:
            point_inside = self.boundary.contains(*point)
        facts = {"inside": inside, "outside": outside, "evidence": evidence, "located": located}
        if point_inside is False:
            reason = render("operator.jurisdiction.point_outside", locale, region=self.region)
            return JurisdictionCheck(True, reason, point_inside=point_inside, **facts)
        if point_inside is None and outside and not inside:
            reason = render(
                "operator.jurisdiction.names_outside",
                locale,
                region=self.region,
                places=", ".join(outside),
            )
            return JurisdictionCheck(True, reason, point_inside=point_inside, **facts)
        return JurisdictionCheck(False, None, point_inside=point_inside, **facts)

    def _evidence(self, resolved: Resolved) -> PlaceEvidence:
        side: Literal["inside", "outside"] = "inside" if resolved.inside else "outside"
        return PlaceEvidence(resolved.mention.words, self._describe(resolved.areas), side)

    def _describe(self, areas: tuple[Area, ...]) -> str:
        """ "Desa Kajen, Kecamatan Margoyoso, Kabupaten Pati"; for a name several areas share,
        the first three regencies: "Kecamatan Purwodadi, Kabupaten Grobogan / ... (+2)"."""
        first = areas[0]
        if len(areas) == 1:
            return ", ".join(_titled(a) for a in self._lineage(first))
        regencies = list(dict.fromkeys(r.name for a in areas if (r := self.gazetteer.regency(a))))
        shown = " / ".join(regencies[:3]) + (
            f" (+{len(regencies) - 3})" if len(regencies) > 3 else ""
        )
        return (
            f"{_titled(first)}, {shown}"
            if first.level > 2
            else " / ".join(_titled(a) for a in areas[:3])
        )

    def _lineage(self, area: Area) -> list[Area]:
        """The area and the larger ones it lies in, up to its kabupaten/kota."""
        chain = [area]
        while chain[-1].level > 2 and (parent := self.gazetteer.parent(chain[-1])) is not None:
            chain.append(parent)
        return chain


def _titled(area: Area) -> str:
    if area.kind in ("desa", "kelurahan", "kecamatan", "provinsi"):
        return f"{area.kind.capitalize()} {area.name}"
    return area.name


def _names(resolved: Iterable[Resolved]) -> tuple[str, ...]:
    """Each named place once: its own name, the one the reporter's words chose."""
    return tuple(dict.fromkeys(r.areas[0].name for r in resolved))


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
