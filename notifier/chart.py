"""A small bar chart as a PNG, drawn in pure Python (zlib), for the digest email."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence

Color = tuple[int, int, int]
BACKGROUND: Color = (255, 255, 255)
BAR: Color = (148, 178, 214)
HIGHLIGHT: Color = (21, 101, 192)
AXIS: Color = (120, 120, 120)
GRID: Color = (232, 232, 232)


def bar_chart_png(
    values: Sequence[int],
    *,
    highlight: int | None = None,
    width: int = 480,
    height: int = 160,
) -> bytes:
    """Bars for `values` (one per day), the `highlight`-th darker; the tallest bar fills the
    plot. Labels are in the email's text, so the image carries none."""
    pixels = [[BACKGROUND] * width for _ in range(height)]
    margin, bottom = 8, height - 8
    top = 8
    for fraction in (0.25, 0.5, 0.75, 1.0):  # light guide lines at quarters of the maximum
        y = bottom - round((bottom - top) * fraction)
        for x in range(margin, width - margin):
            pixels[y][x] = GRID
    for x in range(margin, width - margin):
        pixels[bottom][x] = AXIS
    count = max(1, len(values))
    slot = (width - 2 * margin) / count
    gap = max(1, round(slot * 0.2))
    tallest = max(values, default=0) or 1
    for i, value in enumerate(values):
        left = margin + round(i * slot) + gap // 2
        right = max(left + 1, margin + round((i + 1) * slot) - gap // 2)
        bar_top = bottom - round((bottom - top) * value / tallest)
        color = HIGHLIGHT if i == highlight else BAR
        for y in range(bar_top, bottom):
            row = pixels[y]
            for x in range(left, min(right, width - margin)):
                row[x] = color
    return encode_png(pixels)


def encode_png(pixels: Sequence[Sequence[Color]]) -> bytes:
    """An 8-bit RGB PNG of rows of (r, g, b) pixels."""
    height, width = len(pixels), len(pixels[0])
    raw = b"".join(b"\x00" + bytes(c for pixel in row for c in pixel) for row in pixels)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(raw, 9))
        + _chunk(b"IEND", b"")
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)
