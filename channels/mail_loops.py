"""Mail loop protection: bounces, auto-replies and our own mail never open tickets."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import getaddresses

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
    try:
        value = msg.get(name)
    except Exception:  # a malformed header must not stop loop detection
        value = msg.get_all(name, failobj=[""])[0] if name in msg else None
    return str(value).strip() if value is not None else ""


def _addresses(msg: EmailMessage, name: str) -> list[str]:
    raw = _header(msg, name)
    if not raw:
        return []
    return [addr.lower() for _, addr in getaddresses([raw]) if addr]


def _bounce(msg: EmailMessage, senders: list[str]) -> str | None:
    if msg.get_content_type() == "multipart/report":
        report_type = (msg.get_param("report-type") or "").lower()
        if report_type == "delivery-status":
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
        report_type = (msg.get_param("report-type") or "").lower()
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
    reason = _own_mail(msg, senders, own_addresses, own_msgid_domain)
    if reason:
        return LoopVerdict("own_mail", reason)
    reason = _bounce(msg, senders)
    if reason:
        return LoopVerdict("bounce", reason)
    reason = _auto_reply(msg, senders)
    if reason:
        return LoopVerdict("auto_reply", reason)
    return None
