"""Readable text from mail bodies: charset repair, HTML to text, trimming quotes and signatures."""

from __future__ import annotations

import codecs
import re
from html.parser import HTMLParser

# Labels that lie in practice: latin-1 mail is nearly always cp1252, gb2312 is gb18030.
_CHARSET_UPGRADES = {
    "iso-8859-1": "cp1252",
    "latin-1": "cp1252",
    "latin1": "cp1252",
    "us-ascii": "utf-8",
    "ascii": "utf-8",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "ks_c_5601-1987": "cp949",
}


def decode_bytes(payload: bytes, charset: str | None) -> tuple[str, str | None]:
    """Decode a body whatever its label says; returns the text and a note when the label lied."""
    label = (charset or "").strip().strip('"').lower() or None
    wanted = _CHARSET_UPGRADES.get(label or "", label)
    note = None
    if wanted is not None:
        try:
            codecs.lookup(wanted)
        except LookupError:
            note = f"unknown charset {label!r}"
            wanted = None
    for candidate in (wanted, "utf-8", "cp1252"):
        if candidate is None:
            continue
        try:
            text = payload.decode(candidate)
        except UnicodeDecodeError:
            continue
        if label and candidate != wanted and note is None:
            note = f"body declared {label!r} but was {candidate}"
        return clean_text(text), note
    text = payload.decode("utf-8", errors="replace")
    return clean_text(text), note or "undecodable bytes replaced"


def clean_text(text: str) -> str:
    """Text safe for every database: no NULs, no lone surrogates, Unix line ends."""
    if any("\ud800" <= ch <= "\udfff" for ch in text):
        raw = text.encode("utf-8", errors="surrogateescape")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("cp1252", errors="replace")
        text = text.encode("utf-8", errors="replace").decode("utf-8")
    return text.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n")


_BLOCK_TAGS = frozenset(
    {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table",
     "ul", "ol", "hr", "pre", "section", "article", "header", "footer"}
)
_SKIP_TAGS = frozenset({"script", "style", "head", "title"})


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skip += 1
        elif tag == "li":
            self.chunks.append("\n- ")
        elif tag in _BLOCK_TAGS:
            self.chunks.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK_TAGS and tag != "li":
            self.chunks.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.chunks.append(re.sub(r"[ \t\r\n\f\xa0]+", " ", data))


def html_to_text(html: str) -> str:
    """The words of an HTML body, one paragraph per line, without markup, styles or scripts."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    lines = (line.strip() for line in "".join(parser.chunks).split("\n"))
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


# A line that opens quoted history. Gmail/Yahoo wrap long attributions over two lines.
_ATTRIBUTION = re.compile(
    r"^(On\b.*\bwrote:|Pada\b.*\bmenulis:|Le\b.*\ba écrit\s*:|Am\b.*\bschrieb\b.*:)\s*$",
    re.IGNORECASE,
)
# Yahoo puts the attribution and the quote on one line; an address tells it from prose.
_ATTRIBUTION_INLINE = re.compile(r"^(On|Pada)\s[^\n]*@[^\n]*\b(wrote|menulis):", re.IGNORECASE)
_ATTRIBUTION_START = re.compile(r"^(On|Pada)\s.*@.+", re.IGNORECASE)
_ATTRIBUTION_END = re.compile(r".*\b(wrote|menulis):\s*$", re.IGNORECASE)
_SEPARATORS = re.compile(
    r"^\s*(-{2,}\s*(Original Message|Pesan Asli|Pesan asli)\s*-{2,}|_{10,})\s*$", re.IGNORECASE
)
_OUTLOOK_HEADER = re.compile(r"^\s*\*?(From|Dari)\s*:\*?\s+\S", re.IGNORECASE)
_OUTLOOK_NEXT = re.compile(r"^\s*\*?(Sent|Dikirim|Date|Tanggal|To|Kepada)\s*:", re.IGNORECASE)
_SIGNATURE_LINES = re.compile(
    r"^\s*(Sent from my .+|Dikirim dari .+|Sent from Yahoo Mail.*|Get Outlook for .+|"
    r"Dapatkan Outlook untuk .+|Sent from Mail for Windows.*|Sent via .+)\s*$",
    re.IGNORECASE,
)
_FORWARD_MARKER = re.compile(
    r"^\s*-{3,}\s*(Forwarded message|Pesan terusan|Pesan yang Diteruskan|Begin forwarded message)",
    re.IGNORECASE,
)


def _quote_start(lines: list[str]) -> int | None:
    """Index of the first line of quoted history, if any."""
    for i, line in enumerate(lines):
        stripped = line.strip()
        if _FORWARD_MARKER.match(stripped):
            return None  # a forward's history is the report itself
        if any(p.match(stripped) for p in (_ATTRIBUTION, _ATTRIBUTION_INLINE, _SEPARATORS)):
            return i
        if _ATTRIBUTION_START.match(stripped) and i + 1 < len(lines):
            if _ATTRIBUTION_END.match(lines[i + 1].strip()):
                return i
        if _OUTLOOK_HEADER.match(stripped) and i + 1 < len(lines):
            if _OUTLOOK_NEXT.match(lines[i + 1]):
                return i
        if stripped.startswith(">") and all(
            not rest.strip() or rest.lstrip().startswith(">") for rest in lines[i:]
        ):
            return i
    return None


def trim_reply(text: str) -> str:
    """What the writer wrote this time: without quoted earlier mail and signatures."""
    lines = text.split("\n")
    cut = _quote_start(lines)
    if cut is not None:
        lines = lines[:cut]
    for i, line in enumerate(lines):
        if line in ("-- ", "--"):  # RFC 3676 signature delimiter
            lines = lines[:i]
            break
    while lines and (not lines[-1].strip() or _SIGNATURE_LINES.match(lines[-1])):
        lines.pop()
    trimmed = "\n".join(lines).strip()
    return trimmed or text.strip()


def looks_forwarded(text: str, subject: str) -> bool:
    """A forwarded report: Fwd:/FW: subject or a forward marker in the body."""
    if re.match(r"^\s*(fwd?|fw|tr|terusan)\s*:", subject or "", re.IGNORECASE):
        return True
    return any(_FORWARD_MARKER.match(line) for line in text.split("\n"))
