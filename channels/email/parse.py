"""One raw RFC 5322 message to an InboundMessage (or an UnsupportedEvent for loops)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from channels.base import (
    DeliveryState,
    DeliveryStatus,
    Inbound,
    InboundMessage,
    UnsupportedEvent,
)
from channels.email.budget import MailLimits, first_headers, over_budget
from channels.email.headers import (
    all_headers,
    external_id_for,
    header_addresses,
    header_text,
    message_ids,
    normalize_message_id,
)
from channels.email.loops import detect_loop, read_failed_delivery
from channels.email.parts import (
    Parts,
    collect,
    forwarded_message,
    part_text,
    save_attachment,
    store_media,
)
from channels.email.text import clean_text, looks_forwarded, trim_reply

__all__ = [
    "ParseContext", "external_id_for", "message_ids", "normalize_message_id", "parse_email",
    "parse_mail", "store_media",
]

CHANNEL = "email"
MAX_ADDRESS_LENGTH = 320  # RFC 5321's limit, and the store's


@dataclass(frozen=True, slots=True)
class ParseContext:
    """What the parser needs to know about the mailbox it reads."""

    account: str
    data_dir: Path
    own_addresses: frozenset[str] = frozenset()
    own_msgid_domain: str = ""
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    limits: MailLimits = field(default_factory=MailLimits)


def _sent_at(msg: EmailMessage, fallback: datetime, errors: list[str]) -> datetime:
    value = header_text(msg, "Date", errors)
    if value:
        try:
            when = parsedate_to_datetime(value)
            return when if when.tzinfo else when.replace(tzinfo=UTC)
        except (TypeError, ValueError, IndexError, OverflowError):
            errors.append(f"unreadable Date header {value!r}")
    return fallback


def _sender(msg: EmailMessage, errors: list[str]) -> tuple[str | None, str | None]:
    for name in ("From", "Sender", "Reply-To", "Return-Path"):
        for display, addr in header_addresses(msg, name, errors):
            if "@" in addr:
                display = display.strip()[:MAX_ADDRESS_LENGTH] or None
                return display, addr.strip()[:MAX_ADDRESS_LENGTH]
    return None, None


def _body(msg: EmailMessage, errors: list[str]) -> tuple[str, list[EmailMessage]]:
    parts = Parts()
    collect(msg, parts)
    texts = []
    for part in parts.bodies:
        text, note = part_text(part)
        if note:
            errors.append(note)
        if text.strip():
            texts.append(text.strip())
    return "\n\n".join(texts), parts.attachments


def _forwarded_text(part: EmailMessage, errors: list[str]) -> str:
    inner = forwarded_message(part)
    if inner is None:
        return ""
    body, _ = _body(inner, errors)
    names = ("From", "Date", "Subject")
    heading = [f"{name}: {header_text(inner, name, errors)}" for name in names]
    return "\n".join(["---------- Forwarded message ----------", *heading, "", body]).strip()


def _keep_eml(ctx: ParseContext, raw: bytes, errors: list[str]) -> str | None:
    try:
        return store_media(ctx.data_dir, raw, ".eml")[0]
    except OSError as exc:  # the mail stays on the server; the message is kept with the reason
        errors.append(f"could not keep the .eml file: {exc}")
        return None


def parse_email(
    raw: bytes,
    ctx: ParseContext,
    *,
    received_at: datetime | None = None,
    extra: dict | None = None,
    headers_only: str | None = None,
) -> InboundMessage | UnsupportedEvent:
    """Read one message; never raises for bad input, sets parse_error with what went wrong.

    A mail over the limits of `ctx.limits`, or one given with a `headers_only` reason (a mail
    the poller fetched only the headers of), is read as headers only, with that reason.
    """
    extra = dict(extra or {})
    try:
        return _read(raw, ctx, received_at, extra, headers_only)
    except Exception as exc:  # whatever the parser did not foresee must not lose the mail
        return unreadable(raw, ctx, received_at, extra, f"unreadable mail: {_why(exc)}")


def _why(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


def _read(
    raw: bytes, ctx: ParseContext, received_at: datetime | None, extra: dict,
    headers_only: str | None,
) -> InboundMessage | UnsupportedEvent:
    reason = headers_only or over_budget(raw, ctx.limits)
    parser = BytesParser(policy=policy.default)
    if reason:  # the body is neither parsed nor decoded: what made it too costly stays unread
        msg = parser.parsebytes(first_headers(raw, ctx.limits.max_headers), headersonly=True)
    else:
        msg = parser.parsebytes(raw)
    errors: list[str] = []
    external_id = external_id_for(normalize_message_id(header_text(msg, "Message-ID", errors)), raw)
    headers = all_headers(msg)
    try:
        verdict = detect_loop(
            msg, own_addresses=ctx.own_addresses, own_msgid_domain=ctx.own_msgid_domain
        )
    except Exception as exc:  # a report is better kept than skipped; the reason goes with it
        verdict, _ = None, errors.append(f"loop check: {_why(exc)}")
    if verdict is not None:
        return UnsupportedEvent(
            channel=CHANNEL, account=ctx.account, external_id=external_id, kind=verdict.kind,
            reason=verdict.reason, raw={**extra, "headers": headers},
        )
    if reason:
        errors.append(f"{reason}: only its headers were read")
        return _message(msg, raw, ctx, external_id, received_at, headers, extra, errors, False)
    try:
        return _message(msg, raw, ctx, external_id, received_at, headers, extra, errors, True)
    except Exception as exc:  # keep what could be read; the reason goes with it
        return unreadable(raw, ctx, received_at, extra, _why(exc), msg)


def _message(
    msg: EmailMessage, raw: bytes, ctx: ParseContext, external_id: str,
    received_at: datetime | None, headers: dict[str, Any], extra: dict, errors: list[str],
    with_body: bool,
) -> InboundMessage:
    display_name, address = _sender(msg, errors)
    if address is None:
        errors.append("no sender address")
    subject = header_text(msg, "Subject", errors)
    full_text, attachment_parts = _body(msg, errors) if with_body else ("", [])
    attachments, forwards = [], []
    for index, part in enumerate(attachment_parts):
        try:
            attachments.append(save_attachment(part, index, ctx.data_dir))
            if part.get_content_type() == "message/rfc822":
                forwards.append(_forwarded_text(part, errors))
        except Exception as exc:
            errors.append(f"attachment {index}: {_why(exc)}")
    text = trim_reply(full_text) if full_text else ""
    text = "\n\n".join(t for t in (text, *forwards) if t)
    eml_path = _keep_eml(ctx, raw, errors)
    references = message_ids(header_text(msg, "References", errors))
    in_reply_to = message_ids(header_text(msg, "In-Reply-To", errors))
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
        parse_error="; ".join(dict.fromkeys(errors)) or None,
        raw={**extra, "full_text": full_text, "headers": headers, "eml_path": eml_path},
    )


def unreadable(
    raw: bytes, ctx: ParseContext, received_at: datetime | None, extra: dict, reason: str,
    msg: EmailMessage | None = None,
) -> InboundMessage:
    """The mail kept as received (its .eml on disk), with the reason it could not be read."""
    errors: list[str] = [reason]
    display_name = address = msg_id = None
    if msg is not None:
        try:  # what the headers still tell, so the operator sees who wrote
            display_name, address = _sender(msg, [])
            msg_id = normalize_message_id(header_text(msg, "Message-ID"))
        except Exception as exc:
            errors.append(f"headers: {_why(exc)}")
    return InboundMessage(
        channel=CHANNEL,
        account=ctx.account,
        external_id=external_id_for(msg_id, raw),
        sender_id=address.lower() if address else "unknown",
        sent_at=received_at or ctx.clock(),
        display_name=display_name,
        contact=address,
        text=clean_text(raw[:4000].decode("utf-8", errors="replace")) if msg is None else "",
        parse_error="; ".join(errors),
        raw={**extra, "eml_path": _keep_eml(ctx, raw, errors)},
    )


def parse_mail(
    raw: bytes,
    ctx: ParseContext,
    *,
    received_at: datetime | None = None,
    extra: dict | None = None,
    headers_only: str | None = None,
) -> list[Inbound]:
    """The items one mail gives intake: the message or skipped event, plus, for a bounce of
    one of our replies, the failed delivery of that reply. Never raises."""
    item = parse_email(raw, ctx, received_at=received_at, extra=extra, headers_only=headers_only)
    if not (isinstance(item, UnsupportedEvent) and item.kind == "bounce" and ctx.own_msgid_domain):
        return [item]
    try:
        status = _failed_delivery(raw, ctx, item, received_at, extra or {})
    except Exception:  # a bounce we cannot read further is still stored as a bounce
        return [item]
    return [item] if status is None else [item, status]


def _failed_delivery(
    raw: bytes, ctx: ParseContext, bounce: UnsupportedEvent, received_at: datetime | None,
    extra: dict,
) -> DeliveryStatus | None:
    if over_budget(raw, ctx.limits):
        return None
    failed = read_failed_delivery(BytesParser(policy=policy.default).parsebytes(raw))
    ours = normalize_message_id(clean_text(failed.original_message_id)) if failed else None
    if failed is None or ours is None or not ours.endswith("@" + ctx.own_msgid_domain):
        return None
    recipient = clean_text(failed.recipient) if failed.recipient else None
    return DeliveryStatus(
        channel=CHANNEL,
        account=ctx.account,
        platform_message_id=ours,
        state=DeliveryState.FAILED,
        at=received_at or ctx.clock(),
        error_code=clean_text(failed.status)[:40] if failed.status else None,
        error_message=clean_text(failed.diagnostic or f"bounced for {recipient}"),
        raw={**extra, "bounce": bounce.external_id, "recipient": recipient},
    )
