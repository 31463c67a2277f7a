"""One raw RFC 5322 message to an InboundMessage (or an UnsupportedEvent for loops)."""

from __future__ import annotations

import hashlib
import mimetypes
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path
from typing import Any

from channels.base import (
    Attachment,
    AttachmentKind,
    DeliveryState,
    DeliveryStatus,
    Inbound,
    InboundMessage,
    UnsupportedEvent,
)
from channels.mail_loops import detect_loop, read_failed_delivery
from channels.mail_text import clean_text, decode_bytes, html_to_text, looks_forwarded, trim_reply

CHANNEL = "email"
MEDIA_SUBDIR = Path("media") / "email"
_MSGID = re.compile(r"<([^<>\s]+)>")
MAX_ID_LENGTH = 500
MAX_ADDRESS_LENGTH = 320  # RFC 5321's limit, and the store's


@dataclass(frozen=True, slots=True)
class ParseContext:
    """What the parser needs to know about the mailbox it reads."""

    account: str
    data_dir: Path
    own_addresses: frozenset[str] = frozenset()
    own_msgid_domain: str = ""
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)


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


def _header(msg: EmailMessage, name: str, errors: list[str]) -> str:
    try:
        value = msg.get(name)
    except Exception as exc:  # policy.default raises on some broken headers
        errors.append(f"header {name}: {exc}")
        return ""
    return clean_text(str(value)).strip() if value is not None else ""


def _all_headers(msg: EmailMessage) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    for name, value in msg.raw_items():
        try:  # RFC 2047 decoded, as a person reads them
            decoded = msg.policy.header_fetch_parse(name, value)
        except Exception:
            decoded = value
        text = clean_text(str(decoded))
        if name in headers:
            prior = headers[name]
            headers[name] = [*prior, text] if isinstance(prior, list) else [prior, text]
        else:
            headers[name] = text
    return headers


@dataclass
class _Parts:
    bodies: list[EmailMessage] = field(default_factory=list)
    attachments: list[EmailMessage] = field(default_factory=list)


def _choose_alternative(part: EmailMessage) -> EmailMessage | None:
    children = list(part.iter_parts())
    for child in children:
        if child.get_content_type() == "text/plain" and _part_text(child)[0].strip():
            return child
    for child in children:
        if child.is_multipart():
            return child
    for child in children:
        if child.get_content_type() == "text/html":
            return child
    return children[-1] if children else None


def _collect(part: EmailMessage, out: _Parts) -> None:
    ctype = part.get_content_type()
    if ctype == "message/rfc822":  # a forwarded mail: kept whole, its text added separately
        out.attachments.append(part)
        return
    if part.is_multipart():
        if ctype == "multipart/alternative":
            best = _choose_alternative(part)
            if best is not None:
                _collect(best, out)
        else:
            for child in part.iter_parts():
                _collect(child, out)
        return
    is_inline_text = ctype in ("text/plain", "text/html") and not part.get_filename()
    if is_inline_text and part.get_content_disposition() != "attachment":
        out.bodies.append(part)
    else:
        out.attachments.append(part)


def _part_text(part: EmailMessage) -> tuple[str, str | None]:
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


def _attachment_bytes(part: EmailMessage) -> bytes:
    if part.get_content_type() == "message/rfc822":
        inner = part.get_payload()
        inner = inner[0] if isinstance(inner, list) else inner
        return inner.as_bytes(policy=policy.SMTP) if hasattr(inner, "as_bytes") else b""
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


def _save_attachment(part: EmailMessage, index: int, data_dir: Path) -> Attachment:
    mime = part.get_content_type()
    try:
        name = part.get_filename()
    except Exception:  # undecodable RFC 2231 name: keep the file without one
        name = None
    if name:
        name = clean_text(name).strip().replace("/", "_").replace("\\", "_") or None
    if not name and mime == "message/rfc822":
        inner = part.get_payload()
        inner = inner[0] if isinstance(inner, list) else inner
        title = re.sub(r"[^\w .,()-]+", "_", clean_text(str(inner.get("Subject") or ""))).strip()
        name = f"{title or f'forwarded-{index}'}.eml"
    content = _attachment_bytes(part)
    suffix = Path(name).suffix.lower() if name else (mimetypes.guess_extension(mime) or "")
    if not re.fullmatch(r"\.[a-z0-9]{1,8}", suffix):
        suffix = ""
    stored_path, digest = store_media(data_dir, content, suffix)
    content_id = (part.get("Content-ID") or "").strip("<> ") or None
    return Attachment(
        kind=_kind(mime),
        mime_type=mime[:200],
        media_ref=f"cid:{content_id}" if content_id else None,
        size=len(content),
        file_name=name,
        sha256=digest,
        stored_path=stored_path,
    )


def _sent_at(msg: EmailMessage, fallback: datetime, errors: list[str]) -> datetime:
    value = _header(msg, "Date", errors)
    if value:
        try:
            when = parsedate_to_datetime(value)
            return when if when.tzinfo else when.replace(tzinfo=UTC)
        except (TypeError, ValueError, IndexError):
            errors.append(f"unreadable Date header {value!r}")
    return fallback


def _sender(msg: EmailMessage, errors: list[str]) -> tuple[str | None, str | None]:
    for name in ("From", "Sender", "Reply-To", "Return-Path"):
        raw = _header(msg, name, errors)
        for display, addr in getaddresses([raw]) if raw else []:
            if "@" in addr:
                display = display.strip()[:MAX_ADDRESS_LENGTH] or None
                return display, addr.strip()[:MAX_ADDRESS_LENGTH]
    return None, None


def _body(msg: EmailMessage, errors: list[str]) -> tuple[str, list[EmailMessage]]:
    parts = _Parts()
    _collect(msg, parts)
    texts = []
    for part in parts.bodies:
        text, note = _part_text(part)
        if note:
            errors.append(note)
        if text.strip():
            texts.append(text.strip())
    return "\n\n".join(texts), parts.attachments


def _forwarded_text(part: EmailMessage, errors: list[str]) -> str:
    inner = part.get_payload()
    inner = inner[0] if isinstance(inner, list) else inner
    if not isinstance(inner, EmailMessage):
        return ""
    body, _ = _body(inner, errors)
    heading = [f"{name}: {_header(inner, name, errors)}" for name in ("From", "Date", "Subject")]
    return "\n".join(["---------- Forwarded message ----------", *heading, "", body]).strip()


def parse_email(
    raw: bytes, ctx: ParseContext, *, received_at: datetime | None = None, extra: dict | None = None
) -> InboundMessage | UnsupportedEvent:
    """Read one message; never raises for bad input, sets parse_error with what went wrong."""
    extra = dict(extra or {})
    try:
        msg = BytesParser(policy=policy.default).parsebytes(raw)
    except Exception as exc:  # the parser is lenient, but a crash must not lose the mail
        return _unreadable(raw, ctx, received_at, extra, f"unparseable message: {exc}")
    errors: list[str] = []
    msg_id = normalize_message_id(_header(msg, "Message-ID", errors))
    external_id = external_id_for(msg_id, raw)
    try:
        headers = _all_headers(msg)
    except Exception as exc:
        headers, _ = {}, errors.append(f"headers: {exc}")
    verdict = detect_loop(
        msg, own_addresses=ctx.own_addresses, own_msgid_domain=ctx.own_msgid_domain
    )
    if verdict is not None:
        return UnsupportedEvent(
            channel=CHANNEL, account=ctx.account, external_id=external_id, kind=verdict.kind,
            reason=verdict.reason, raw={**extra, "headers": headers},
        )
    try:
        return _message(msg, raw, ctx, external_id, received_at, headers, extra, errors)
    except Exception as exc:  # keep what could be read; the reason goes with it
        return _unreadable(raw, ctx, received_at, extra, f"{type(exc).__name__}: {exc}", msg)


def _message(
    msg: EmailMessage, raw: bytes, ctx: ParseContext, external_id: str,
    received_at: datetime | None, headers: dict[str, Any], extra: dict, errors: list[str],
) -> InboundMessage:
    display_name, address = _sender(msg, errors)
    if address is None:
        errors.append("no sender address")
    subject = _header(msg, "Subject", errors)
    full_text, attachment_parts = _body(msg, errors)
    attachments, forwards = [], []
    for index, part in enumerate(attachment_parts):
        try:
            attachments.append(_save_attachment(part, index, ctx.data_dir))
        except Exception as exc:
            errors.append(f"attachment {index}: {type(exc).__name__}: {exc}")
        if part.get_content_type() == "message/rfc822":
            forwards.append(_forwarded_text(part, errors))
    text = trim_reply(full_text) if full_text else ""
    text = "\n\n".join(t for t in (text, *forwards) if t)
    eml_path, _ = store_media(ctx.data_dir, raw, ".eml")
    references = message_ids(_header(msg, "References", errors))
    in_reply_to = message_ids(_header(msg, "In-Reply-To", errors))
    return InboundMessage(
        channel=CHANNEL,
        account=ctx.account,
        external_id=external_id,
        sender_id=address.lower() if address else "unknown",
        sent_at=_sent_at(msg, received_at or ctx.clock(), errors),
        text=text,
        display_name=display_name,
        contact=address,
        attachments=tuple(attachments),
        reply_to=in_reply_to[0] if in_reply_to else (references[-1] if references else None),
        references=references,
        subject=subject or None,
        forwarded=bool(forwards) or looks_forwarded(full_text, subject),
        parse_error="; ".join(errors) or None,
        raw={**extra, "full_text": full_text, "headers": headers, "eml_path": eml_path},
    )


def _unreadable(
    raw: bytes, ctx: ParseContext, received_at: datetime | None, extra: dict, reason: str,
    msg: EmailMessage | None = None,
) -> InboundMessage:
    errors: list[str] = []
    display_name, address = _sender(msg, errors) if msg is not None else (None, None)
    eml_path, _ = store_media(ctx.data_dir, raw, ".eml")
    return InboundMessage(
        channel=CHANNEL,
        account=ctx.account,
        external_id=external_id_for(None, raw) if msg is None else external_id_for(
            normalize_message_id(_header(msg, "Message-ID", errors)), raw),
        sender_id=address.lower() if address else "unknown",
        sent_at=received_at or ctx.clock(),
        display_name=display_name,
        contact=address,
        text=clean_text(raw[:4000].decode("utf-8", errors="replace")) if msg is None else "",
        parse_error=reason,
        raw={**extra, "eml_path": eml_path},
    )


def parse_mail(
    raw: bytes, ctx: ParseContext, *, received_at: datetime | None = None, extra: dict | None = None
) -> list[Inbound]:
    """The items one mail gives intake: the message or skipped event, plus, for a bounce of
    one of our replies, the failed delivery of that reply."""
    item = parse_email(raw, ctx, received_at=received_at, extra=extra)
    if not (isinstance(item, UnsupportedEvent) and item.kind == "bounce" and ctx.own_msgid_domain):
        return [item]
    try:
        failed = read_failed_delivery(BytesParser(policy=policy.default).parsebytes(raw))
    except Exception:  # a bounce we cannot read further is still stored as a bounce
        return [item]
    ours = normalize_message_id(failed.original_message_id) if failed else None
    if failed is None or ours is None or not ours.endswith("@" + ctx.own_msgid_domain):
        return [item]
    status = DeliveryStatus(
        channel=CHANNEL,
        account=ctx.account,
        platform_message_id=ours,
        state=DeliveryState.FAILED,
        at=received_at or ctx.clock(),
        error_code=failed.status,
        error_message=clean_text(failed.diagnostic or f"bounced for {failed.recipient}"),
        raw={**(extra or {}), "bounce": item.external_id, "recipient": failed.recipient},
    )
    return [item, status]
