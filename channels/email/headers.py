"""Mail headers read without ever raising: decoded when possible, the raw text when not."""

from __future__ import annotations

import hashlib
import re
from email.header import decode_header, make_header
from email.message import Message
from email.utils import getaddresses
from typing import Any

from channels.email.text import clean_text

_MSGID = re.compile(r"<([^<>\s]+)>")
# Controls other than tab, decoded from RFC 2047 words (a CR/LF injects a header when re-sent).
_CONTROLS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]+")
_ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")
MAX_ID_LENGTH = 500


def one_line(text: str) -> str:
    """`text` on one line: every run of control characters (CR, LF, ...) becomes a space."""
    return _CONTROLS.sub(" ", text)


def _raw_values(msg: Message, name: str) -> list[str]:
    wanted = name.lower()
    return [str(value) for key, value in msg.raw_items() if key.lower() == wanted]


def _decode_raw(value: str) -> str:
    """RFC 2047 words decoded the lenient way (compat32), the raw text if even that fails."""
    try:
        return str(make_header(decode_header(value)))
    except Exception:  # unknown charset, broken encoded word: the raw header is still readable
        return value


def _quoted_word(match: re.Match[str]) -> str:
    decoded = one_line(_decode_raw(match.group()))
    return '"' + decoded.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _quoted_words(value: str) -> str:
    """Encoded words decoded into quoted strings, so nothing inside them reads as an address."""
    return _ENCODED_WORD.sub(_quoted_word, value)


def header_text(msg: Message, name: str, problems: list[str] | None = None) -> str:
    """The first `name` header as text: decoded, NUL-free, surrogate-free, stripped.

    policy.default raises on some headers (an address whose decoded name holds CR/LF, ...):
    then the raw header is decoded leniently and the reason goes to `problems`.
    """
    try:
        value: Any = msg.get(name)
    except Exception as exc:
        if problems is not None:
            problems.append(f"header {name}: {type(exc).__name__}: {exc}; read from the raw text")
        raws = _raw_values(msg, name)
        value = one_line(_decode_raw(raws[0])) if raws else None
    if value is None:
        return ""
    try:
        return one_line(clean_text(str(value))).strip()
    except Exception as exc:  # str() of a parsed header can still fail on odd input
        if problems is not None:
            problems.append(f"header {name}: {type(exc).__name__}: {exc}")
        raws = _raw_values(msg, name)
        return one_line(clean_text(raws[0])).strip() if raws else ""


def header_addresses(
    msg: Message, name: str, problems: list[str] | None = None
) -> list[tuple[str, str]]:
    """(display name, address) of every address in the first `name` header; never raises.

    When policy.default refuses the header, the raw text is split into addresses first and only
    then are the display names decoded: a decoded name can hold what looks like another address.
    """
    try:
        value = msg.get(name)
        text = "" if value is None else clean_text(str(value))
        pairs = getaddresses([text]) if text else []
    except Exception as exc:
        if problems is not None:
            problems.append(f"header {name}: {type(exc).__name__}: {exc}; read from the raw text")
        raws = _raw_values(msg, name)
        pairs = getaddresses([_quoted_words(clean_text(raws[0]))]) if raws else []
    return [(one_line(display).strip(), one_line(addr).strip()) for display, addr in pairs]


def all_headers(msg: Message) -> dict[str, Any]:
    """Every header as a person reads it, repeated ones as a list; never raises."""
    headers: dict[str, Any] = {}
    for name, value in msg.raw_items():
        try:  # RFC 2047 decoded
            decoded = str(msg.policy.header_fetch_parse(name, value))
        except Exception:
            decoded = _decode_raw(str(value))
        name, text = clean_text(str(name)), clean_text(decoded)
        if name in headers:
            prior = headers[name]
            headers[name] = [*prior, text] if isinstance(prior, list) else [prior, text]
        else:
            headers[name] = text
    return headers


def normalize_message_id(value: str | None) -> str | None:
    """`<Local@Example.COM>` -> `Local@example.com`: the id as intake and replies compare it."""
    if not value:
        return None
    match = _MSGID.search(value)
    token = match.group(1) if match else value.strip().strip("<>").strip()
    if not token or any(ch.isspace() for ch in token):
        return None
    local, sep, domain = token.rpartition("@")
    token = f"{local}@{domain.lower()}" if sep else token
    if len(token) > MAX_ID_LENGTH:  # the store keeps 512; a hash still matches its replies
        return "sha256:" + hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()
    return token


def message_ids(value: str | None) -> tuple[str, ...]:
    """Every Message-ID in a References or In-Reply-To header, in order, once each."""
    found = [normalize_message_id(f"<{m}>") for m in _MSGID.findall(value or "")]
    return tuple(dict.fromkeys(m for m in found if m))


def external_id_for(msg_id: str | None, raw: bytes) -> str:
    """The Message-ID, or a hash of the bytes so a message without one is still stored once."""
    return msg_id or "sha256:" + hashlib.sha256(raw).hexdigest()
