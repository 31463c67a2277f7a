"""Which areas the names in a report mean, for one region, and whether each is inside it.

The rules, in order:
1. A kind word narrows a name to that level: "kec. Brati" is a kecamatan, "desa Purworejo" a
   village, "kota Pasuruan" the city, "kab. Pasuruan" the regency (the bare name is read below).
2. A name that is also ordinary words ("sumur", "gembong", "pasar minggu") counts only after a
   kind word or right before a larger area it lies in ("Lahar Tlogowungu"); after "di",
   "warga" and the like a single word may still be a kabupaten/kota or province ("di Kudus").
3. Without a kind word, a kecamatan elsewhere needs a locative or landmark word before it
   ("di Jekulo", "pasar Lasem") and a village elsewhere is not taken at all: most village names
   repeat across the country. The region's own kecamatan and villages count bare.
4. Names that agree win: a village whose kecamatan or regency the text also names is that
   village ("desa Sidomulyo kecamatan Ampelgading kabupaten Malang" is not Pati's Sidomulyo).
5. Otherwise the region's reading wins, except where a bare name of the region is also the name
   of a kabupaten/kota or province elsewhere ("Pekalongan"): that alone decides nothing.
6. Names inside a street's name ("Jl. Raya Kudus-Jepara") or after a word of a route or an
   origin ("dari Semarang", "ke arah Kudus", "asal Jepara") are where something comes from or
   goes to, not where the problem is: they never count as outside.
The province around the region ("Jawa Tengah" for Pati) is neither inside nor outside.
"""

from __future__ import annotations

from dataclasses import dataclass

from triage.gazetteer import Area
from triage.place_reader import Mention

_KIND_LEVEL = {"provinsi": 1, "kabupaten": 2, "kota": 2, "kecamatan": 3, "desa": 4}


@dataclass(frozen=True, slots=True)
class Resolved:
    mention: Mention
    areas: tuple[Area, ...]  # what the name means here, one or more equally likely areas
    inside: bool

    @property
    def locates(self) -> bool:
        """Precise enough to find the place: a kecamatan or village, not a whole regency, and
        one kecamatan ("Tlogorejo" alone is a village in three of Pati's; "Margorejo" is a
        kecamatan, whatever villages share its name)."""
        top = min(area.level for area in self.areas)
        kecamatan = {a.code.rsplit(".", a.level - 3)[0] for a in self.areas if a.level == top}
        return top >= 3 and len(kecamatan) == 1


def resolve(mentions: list[Mention], region: Area) -> list[Resolved]:
    candidates = [_candidates(m, region) for m in mentions]
    _hierarchy(mentions, candidates)
    resolved = []
    for index, (mention, areas) in enumerate(zip(mentions, candidates, strict=True)):
        if not areas:
            continue
        others = [a for j, c in enumerate(candidates) if j != index for a in c]
        chosen = _choose(mention, areas, others, region)
        if not chosen:
            continue
        inside = chosen[0].within(region)
        if not inside and (mention.in_street or mention.en_route):
            continue
        if not inside and region.within(chosen[0]):  # the region's own province
            continue
        resolved.append(Resolved(mention, chosen, inside))
    return resolved


def _candidates(mention: Mention, region: Area) -> list[Area]:
    areas = list(mention.areas)
    if mention.kind is not None:
        level = _KIND_LEVEL[mention.kind]
        areas = [a for a in areas if a.level == level]
        same_kind = [a for a in areas if a.kind == mention.kind]
        if mention.kind in ("kabupaten", "kota") and same_kind:
            areas = same_kind
        return areas
    if mention.common:
        # Rule 2; `_hierarchy` may still admit the smaller areas. A phrase of ordinary words
        # ("pesisir selatan", "tanah laut") needs its kind word even for a regency.
        single = mention.last - mention.first == 1
        return [a for a in areas if a.level <= 2] if mention.cue != "none" and single else []
    if mention.cue == "none":
        return [a for a in areas if a.within(region) or a.level <= 2]
    return [a for a in areas if a.within(region) or a.level <= 3]


def _hierarchy(mentions: list[Mention], candidates: list[list[Area]]) -> None:
    """Rule 2's exception: a name right before a larger area it lies in ("Kajen Margoyoso",
    "Lahar Tlogowungu") is that place, even when it is also an ordinary word."""
    for i in range(len(mentions) - 1):
        here, following = mentions[i], mentions[i + 1]
        if following.first - here.last > 2:
            continue
        larger = candidates[i + 1] or [a for a in following.areas if a.level <= 2]
        within = [a for a in here.areas if any(a.within(b) and a != b for b in larger)]
        if within:
            candidates[i] = within


def _choose(
    mention: Mention, areas: list[Area], others: list[Area], region: Area
) -> tuple[Area, ...]:
    def support(area: Area) -> int:
        return sum(1 for o in others if o != area and (area.within(o) or o.within(area)))

    best = max(support(a) for a in areas)
    chosen = [a for a in areas if support(a) == best]
    ours = [a for a in chosen if a.within(region)]
    if not ours:
        return tuple(chosen)
    elsewhere = [a for a in chosen if not a.within(region) and a.level <= 2]
    if best == 0 and mention.kind is None and elsewhere and all(a.level > 2 for a in ours):
        return ()  # rule 5: "Pekalongan" alone may be Pati's village or the city
    return tuple(ours)
