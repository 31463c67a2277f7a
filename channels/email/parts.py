"""The parts of a parsed mail: which are its text, which are attachments kept on disk."""

from __future__ import annotations

import hashlib
import mimetypes
import os
import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from pathlib import Path

from channels.base import Attachment, AttachmentKind
from channels.email.text import clean_text, decode_bytes, html_to_text

MEDIA_SUBDIR = Path("media") / "email"


@dataclass
class Parts:
    bodies: list[EmailMessage] = field(default_factory=list)
    attachments: list[EmailMessage] = field(default_factory=list)


def _choose_alternative(part: EmailMessage) -> EmailMessage | None:
    children = list(part.iter_parts())
    for child in children:
        if child.get_content_type() == "text/plain" and part_text(child)[0].strip():
            return child
    for child in children:
        if child.is_multipart():
            return child
    for child in children:
        if child.get_content_type() == "text/html":
            return child
    return children[-1] if children else None


def collect(part: EmailMessage, out: Parts) -> None:
    """Sort `part` and what it holds into text bodies and attachments."""
    ctype = part.get_content_type()
    if ctype == "message/rfc822":  # a forwarded mail: kept whole, its text added separately
        out.attachments.append(part)
        return
    if part.is_multipart():
        if ctype == "multipart/alternative":
            best = _choose_alternative(part)
            if best is not None:
                collect(best, out)
        else:
            for child in part.iter_parts():
                collect(child, out)
        return
    is_inline_text = ctype in ("text/plain", "text/html") and not part.get_filename()
    if is_inline_text and part.get_content_disposition() != "attachment":
        out.bodies.append(part)
    else:
        out.attachments.append(part)


def part_text(part: EmailMessage) -> tuple[str, str | None]:
    """The readable text of a body part, and a note when it could not be read cleanly."""
    payload = part.get_payload(decode=True) or b""
    text, note = decode_bytes(payload, part.get_content_charset())
    broken = [type(d).__name__ for d in part.defects if "Base64" in type(d).__name__]
    if broken:
        note = "; ".join(filter(None, [note, f"damaged base64 body ({', '.join(broken)})"]))
    if part.get_content_type() == "text/html":
        text = html_to_text(text)
    return text, note


def _kind(mime: str) -> AttachmentKind:
    major = mime.split("/", 1)[0]
    if major in ("image", "video", "audio"):
        return AttachmentKind(major)
    if mime == "text/vcard" or mime == "text/x-vcard":
        return AttachmentKind.CONTACT
    if major in ("application", "text", "message"):
        return AttachmentKind.DOCUMENT
    return AttachmentKind.OTHER


def forwarded_message(part: EmailMessage) -> EmailMessage | None:
    """The mail a message/rfc822 part holds."""
    inner = part.get_payload()
    inner = inner[0] if isinstance(inner, list) and inner else inner
    return inner if isinstance(inner, EmailMessage) else None


def _attachment_bytes(part: EmailMessage) -> bytes:
    if part.get_content_type() == "message/rfc822":
        inner = forwarded_message(part)
        return inner.as_bytes(policy=policy.SMTP) if inner is not None else b""
    return part.get_payload(decode=True) or b""


def store_media(data_dir: Path, content: bytes, suffix: str) -> tuple[str, str]:
    """Keep bytes under data_dir/media/email by content hash; returns (relative path, sha256)."""
    digest = hashlib.sha256(content).hexdigest()
    relative = MEDIA_SUBDIR / digest[:2] / f"{digest}{suffix}"
    target = data_dir / relative
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        temp.write_bytes(content)
        temp.replace(target)  # atomic: a reader never sees half a file
    return relative.as_posix(), digest


def _file_name(part: EmailMessage, index: int) -> str | None:
    try:
        name = part.get_filename()
    except Exception:  # undecodable RFC 2231 name: keep the file without one
        name = None
    if name:
        name = clean_text(str(name)).strip().replace("/", "_").replace("\\", "_") or None
    if not name and part.get_content_type() == "message/rfc822":
        inner = forwarded_message(part)
        subject = clean_text(str(inner.get("Subject") or "")) if inner is not None else ""
        title = re.sub(r"[^\w .,()-]+", "_", subject).strip()
        name = f"{title or f'forwarded-{index}'}.eml"
    return name


def save_attachment(part: EmailMessage, index: int, data_dir: Path) -> Attachment:
    """Write one attachment to disk and describe it."""
    mime = clean_text(part.get_content_type())  # undecodable header bytes come as surrogates
    name = _file_name(part, index)
    content = _attachment_bytes(part)
    suffix = Path(name).suffix.lower() if name else (mimetypes.guess_extension(mime) or "")
    if not re.fullmatch(r"\.[a-z0-9]{1,8}", suffix):
        suffix = ""
    stored_path, digest = store_media(data_dir, content, suffix)
    content_id = clean_text(str(part.get("Content-ID") or "")).strip("<> ") or None
    return Attachment(
        kind=_kind(mime),
        mime_type=mime[:200],
        media_ref=f"cid:{content_id}" if content_id else None,
        size=len(content),
        file_name=name,
        sha256=digest,
        stored_path=stored_path,
    )
