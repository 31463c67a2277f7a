"""Which facts a new report lacks, so an operator can ask for them in one click."""

from __future__ import annotations

from collections.abc import Iterable

# Attachment kinds (channels.base.AttachmentKind values) that show the problem.
PHOTO_KINDS = frozenset({"image", "video"})


def missing_facts(
    *,
    location: tuple[float, float] | None,
    attachment_kinds: Iterable[str],
    place_named: bool = False,
) -> tuple[str, ...]:
    """The missing facts among "location" and "photo", in that order; () when complete.

    `place_named` is true when the text says where (see triage.jurisdiction): a kecamatan or
    village, a street, RT/RW, coordinates or a named landmark. That is enough to find the place,
    even without map coordinates.
    """
    missing = []
    if location is None and not place_named:
        missing.append("location")
    if not PHOTO_KINDS.intersection(str(kind) for kind in attachment_kinds):
        missing.append("photo")
    return tuple(missing)
