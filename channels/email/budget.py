"""Limits on what one mail may cost to read (size, MIME depth, parts), checked before parsing."""

# The stdlib parser has no limits of its own: a 3,000-deep mail or one of 20,000 parts costs
# seconds of CPU before any of our code runs. `over_budget` scans the raw lines the way the
# parser will split them, stops as soon as a limit is passed, and says why.

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_MAX_BYTES = 25 * 1024 * 1024

# What the parser takes for a header line (email.feedparser.headerRE).
_HEADER = re.compile(rb"From |[\041-\071\073-\176]*:")
_LINE = re.compile(rb"[^\r\n]*(?:\r\n|\n|\r|$)")
_CONTENT_TYPE = re.compile(rb"content-type[ \t]*:", re.IGNORECASE)
_TYPE = re.compile(rb"content-type[ \t]*:[ \t\r\n]*([^;\s]*)", re.IGNORECASE)
_BOUNDARY = re.compile(rb'boundary[ \t]*=[ \t]*(?:"([^"\r\n]*)"|([^\s;]+))', re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class MailLimits:
    """How much of one mail is read in full; past any limit only its headers are read."""

    max_bytes: int = DEFAULT_MAX_BYTES
    max_depth: int = 20
    max_parts: int = 200
    max_headers: int = 2000  # header fields in all the header blocks: each costs a parse


def _declared(block: bytes) -> tuple[bytes, bytes | None]:
    """The content type and boundary a Content-Type header (with its folded lines) declares."""
    found = _TYPE.match(block)
    kind = found.group(1).lower() if found else b""
    boundary = _BOUNDARY.search(block)
    return kind, (boundary.group(1) or boundary.group(2)) if boundary else None


class _Scan:
    """Follows nesting as the parser will: a stack of open boundaries, None for message/*."""

    def __init__(self, limits: MailLimits) -> None:
        self.limits = limits
        self.stack: list[bytes | None] = []
        self.depth = self.parts = self.headers = 0
        self.in_headers = True
        self.content_type: list[bytes] = []
        self.collecting = False

    def over(self) -> str | None:
        if self.depth > self.limits.max_depth:
            return f"MIME nesting deeper than {self.limits.max_depth} levels"
        if self.parts > self.limits.max_parts:
            return f"more than {self.limits.max_parts} MIME parts"
        if self.headers > self.limits.max_headers:
            return f"more than {self.limits.max_headers} header fields"
        return None

    def header_line(self, line: bytes) -> None:
        if line[:1] in (b" ", b"\t"):  # a folded line continues the header before it
            if self.collecting:
                self.content_type.append(line)
            return
        if line and _HEADER.match(line):
            self.headers += 1
            self.collecting = _CONTENT_TYPE.match(line) is not None
            if self.collecting:
                self.content_type = [line]
            return
        # A blank line, or one that is no header, ends the block, as in the parser.
        kind, boundary = _declared(b"".join(self.content_type))
        self.content_type, self.collecting, self.in_headers = [], False, False
        if kind.startswith(b"multipart/") and boundary:
            self.stack.append(boundary)
        elif kind.startswith(b"message/") and kind != b"message/delivery-status":
            self.stack.append(None)  # the body is a whole message: its headers follow
            self.in_headers, self.parts = True, self.parts + 1
        self.depth = max(self.depth, len(self.stack))

    def delimiter(self, line: bytes) -> None:
        for index in range(len(self.stack) - 1, -1, -1):
            boundary = self.stack[index]
            if boundary is None or not line.startswith(b"--" + boundary):
                continue
            rest = line[len(boundary) + 2 :]
            if rest.startswith(b"--"):  # the closing delimiter
                del self.stack[index:]
            elif not rest.strip(b" \t"):
                del self.stack[index + 1 :]
                self.parts += 1
                self.in_headers = True
            else:
                continue
            return


def first_headers(raw: bytes, limit: int) -> bytes:
    """The header block of `raw`, cut after its first `limit` fields: what headers-only reads."""
    kept, fields = [], 0
    for match in _LINE.finditer(raw):  # lazily: neither a large body nor header block is split
        line = match.group()
        if not line.strip(b"\r\n"):
            break
        if line[:1] not in (b" ", b"\t"):
            fields += 1
            if fields > limit:
                break
        kept.append(line)
    return b"".join(kept) + b"\r\n"


def over_budget(raw: bytes, limits: MailLimits) -> str | None:
    """Why `raw` must be read as headers only, or None when it is within every limit."""
    if len(raw) > limits.max_bytes:
        return f"mail of {len(raw):,} bytes is larger than the limit of {limits.max_bytes:,} bytes"
    scan = _Scan(limits)
    for line in raw.splitlines():
        if scan.in_headers:
            scan.header_line(line)
            if line and not scan.in_headers and line.startswith(b"--"):
                scan.delimiter(line)  # a body line that ended the headers, as in the parser
        elif not scan.stack:
            break  # a leaf body at the top: nothing below can nest
        elif line.startswith(b"--"):
            scan.delimiter(line)
        reason = scan.over()
        if reason:
            return reason
    return None
