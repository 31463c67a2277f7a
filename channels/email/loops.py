"""Mail loop protection: bounces, auto-replies and our own mail never open tickets."""

from __future__ import annotations

from dataclasses import dataclass
from email import policy
from email.message import EmailMessage, Message
from email.parser import HeaderParser
from email.utils import collapse_rfc2231_value

from channels.email.headers import header_addresses, header_text
from channels.email.text import clean_text

# Local parts that only machines write from (RFC 3834 §2 and common practice).
_BOUNCE_LOCALPARTS = frozenset({"mailer-daemon", "postmaster"})
_ROBOT_LOCALPARTS = frozenset(
    {"noreply", "no-reply", "donotreply", "do-not-reply", "listserv", "majordomo"}
)
_BULK_PRECEDENCE = frozenset({"bulk", "junk", "list"})


@dataclass(frozen=True, slots=True)
class LoopVerdict:
    """Why a message must neither open a ticket nor be answered."""

    kind: str  # "bounce", "auto_reply" or "own_mail"
    reason: str


def _header(msg: EmailMessage, name: str) -> str:
    return header_text(msg, name)  # a malformed header is read raw, never stops loop detection


def _report_type(msg: EmailMessage) -> str:
    # An RFC 2231 parameter comes back as a (charset, language, value) tuple.
    return clean_text(str(collapse_rfc2231_value(msg.get_param("report-type") or ""))).lower()


def _addresses(msg: EmailMessage, name: str) -> list[str]:
    return [addr.lower() for _, addr in header_addresses(msg, name) if addr]


def _bounce(msg: EmailMessage, senders: list[str]) -> str | None:
    if msg.get_content_type() == "multipart/report":
        if _report_type(msg) == "delivery-status":
            return "delivery status notification (multipart/report; report-type=delivery-status)"
    for addr in senders:
        local = addr.split("@", 1)[0]
        if local in _BOUNCE_LOCALPARTS:
            return f"sender is {local} ({addr})"
    if "Return-Path" in msg and _header(msg, "Return-Path") in ("<>", ""):
        return "empty Return-Path (<>)"
    return None


def _auto_reply(msg: EmailMessage, senders: list[str]) -> str | None:
    auto_submitted = _header(msg, "Auto-Submitted").lower()
    if auto_submitted and auto_submitted.split(";", 1)[0].strip() != "no":
        return f"Auto-Submitted: {auto_submitted}"
    precedence = _header(msg, "Precedence").lower()
    if precedence in _BULK_PRECEDENCE:
        return f"Precedence: {precedence}"
    for name in ("X-Autoreply", "X-Autorespond", "X-Autoreply-From"):
        if name in msg:
            return f"{name} header present"
    if "List-Id" in msg:
        return "mailing list (List-Id)"
    if msg.get_content_type() == "multipart/report":
        report_type = _report_type(msg)
        return f"automatic report (report-type={report_type or 'unknown'})"
    for addr in senders:
        local = addr.split("@", 1)[0]
        if local in _ROBOT_LOCALPARTS or local.endswith("-request") or local.startswith("owner-"):
            return f"sender is an automatic address ({addr})"
    return None


def _own_mail(
    msg: EmailMessage, senders: list[str], own_addresses: frozenset[str], own_msgid_domain: str
) -> str | None:
    for addr in senders:
        if addr in own_addresses:
            return f"sent by our own address ({addr})"
    message_id = _header(msg, "Message-ID").strip("<> ").lower()
    if own_msgid_domain and message_id.endswith("@" + own_msgid_domain):
        return f"our own Message-ID domain ({own_msgid_domain})"
    return None


def detect_loop(
    msg: EmailMessage, *, own_addresses: frozenset[str], own_msgid_domain: str
) -> LoopVerdict | None:
    """The reason a message must be stored as skipped, or None for a real report."""
    senders = _addresses(msg, "From") + _addresses(msg, "Sender")
    checks = (
        ("own_mail", lambda: _own_mail(msg, senders, own_addresses, own_msgid_domain)),
        ("bounce", lambda: _bounce(msg, senders)),
        ("auto_reply", lambda: _auto_reply(msg, senders)),
    )
    for kind, check in checks:  # in this order: a bounce of our own mail is our own mail
        reason = check()
        if reason:
            return LoopVerdict(kind, reason)
    return None


@dataclass(frozen=True, slots=True)
class FailedDelivery:
    """What a delivery status notification (RFC 3464) says about one of the mails it returns."""

    original_message_id: str  # as written in the returned headers, angle brackets and all
    status: str | None  # the enhanced status code, e.g. "5.1.1"
    diagnostic: str | None
    recipient: str | None


def _returned_headers(msg: EmailMessage) -> Message | None:
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype == "message/rfc822":
            inner = part.get_payload()
            return inner[0] if isinstance(inner, list) and inner else None
        if ctype == "text/rfc822-headers":
            text = part.get_payload(decode=True) or b""
            return HeaderParser(policy=policy.compat32).parsestr(text.decode("utf-8", "replace"))
    return None


def _failed_recipient(msg: EmailMessage) -> Message | None:
    for part in msg.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        blocks = part.get_payload()
        for block in blocks if isinstance(blocks, list) else []:
            if str(block.get("Action", "")).strip().lower() == "failed":
                return block
    return None


def read_failed_delivery(msg: EmailMessage) -> FailedDelivery | None:
    """The returned mail's Message-ID and the reason, for a permanent failure report only."""
    if msg.get_content_type() != "multipart/report":
        return None
    recipient = _failed_recipient(msg)
    returned = _returned_headers(msg)
    if recipient is None or returned is None or not returned.get("Message-ID"):
        return None

    def field(name: str) -> str | None:
        value = " ".join(str(recipient.get(name) or "").split())
        return value or None

    final = field("Final-Recipient")
    return FailedDelivery(
        original_message_id=str(returned["Message-ID"]).strip(),
        status=field("Status"),
        diagnostic=field("Diagnostic-Code"),
        recipient=final.split(";", 1)[-1].strip() if final else None,
    )
