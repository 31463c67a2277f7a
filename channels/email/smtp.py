"""Replies to reporters by SMTP (aiosmtplib), threaded into the reporter's conversation."""

from __future__ import annotations

import asyncio
import hashlib
import html
from collections.abc import Callable, Sequence
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import TYPE_CHECKING

import aiosmtplib

from channels.base import OutboundMessage, PlatformError, SendResult
from channels.email.headers import one_line

if TYPE_CHECKING:
    from channels.email.config import EmailConfig


# Line breaks and other controls a reporter's subject may hold (tab is harmless).


def own_msgid_domain(config: EmailConfig) -> str:
    """The right-hand side of every Message-ID we make: how our own mail is recognised."""
    domain = config.from_address.rpartition("@")[2].lower() or "localhost"
    return f"kanal.{domain}"


def message_id_for(idempotency_key: str, domain: str) -> str:
    """The same key always gives the same Message-ID, so a retried send is one mail for clients."""
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]
    return f"{digest}@{domain}"


def reply_subject(subject: str | None, ticket_number: str | None) -> str:
    """`Re: <subject> [LBP-2026-00042]`, without doubling Re: or the ticket number.

    The reporter's subject is put on one line: a CR or LF in a header can never be sent.
    """
    base = one_line(subject or "").strip()
    if base and not base.lower().startswith(("re:", "re :")):
        base = f"Re: {base}"
    if ticket_number and ticket_number not in base:
        base = f"{base} [{ticket_number}]".strip()
    return base


def _html(text: str) -> str:
    paragraphs = [p for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    body = "\n".join(
        "<p>" + html.escape(p.strip()).replace("\n", "<br>\n") + "</p>" for p in paragraphs
    )
    head = '<!DOCTYPE html>\n<html><body style="font-family: sans-serif">'
    return f"{head}\n{body}\n</body></html>\n"


def build_reply(
    config: EmailConfig,
    message: OutboundMessage,
    now: datetime,
    contents: Sequence[bytes] = (),
) -> tuple[EmailMessage, str]:
    """The MIME message for one reply and its normalized Message-ID; `contents` are the bytes
    of `message.files`, attached in order."""
    msg_id = message_id_for(message.idempotency_key, own_msgid_domain(config))
    mail = EmailMessage()
    local, _, domain = config.from_address.partition("@")
    mail["From"] = Address(config.from_name or "", local, domain)
    mail["To"] = message.recipient_contact or message.recipient_id
    mail["Subject"] = reply_subject(message.subject, message.ticket_number) or config.from_name
    mail["Date"] = format_datetime(now)
    mail["Message-ID"] = f"<{msg_id}>"
    if message.reply_to:
        mail["In-Reply-To"] = f"<{message.reply_to}>"
    thread = list(dict.fromkeys([*message.references, *filter(None, [message.reply_to])]))
    if thread:
        mail["References"] = " ".join(f"<{ref}>" for ref in thread)
    # An operator's typed reply is human, so its Auto-Submitted is left out (RFC 3834): the
    # reporter's autoresponder may answer it. Kanal's own texts must not be answered.
    if message.automatic:
        mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(message.text)
    mail.add_alternative(_html(message.text), subtype="html")
    for file, data in zip(message.files, contents, strict=True):
        maintype, _, subtype = file.mime_type.partition("/")
        mail.add_attachment(data, maintype=maintype, subtype=subtype, filename=file.file_name)
    return mail, msg_id


def _read_files(message: OutboundMessage) -> list[bytes]:
    try:
        return [file.path.read_bytes() for file in message.files]
    except OSError as exc:  # a stored file is gone: no retry brings it back
        raise PlatformError(
            f"attachment unreadable: {exc}", retryable=False, code="file_missing"
        ) from exc


def _error(exc: Exception) -> PlatformError:
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused) and exc.recipients:
        exc = exc.recipients[0]
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        code = exc.code
        retryable = 400 <= code < 500
        text = f"SMTP {code}: {exc.message}"
        return PlatformError(text, retryable=retryable, code=f"smtp-{code}")
    if isinstance(exc, aiosmtplib.SMTPTimeoutError):
        return PlatformError(f"SMTP timeout: {exc}", retryable=True, code="smtp-timeout")
    if isinstance(exc, aiosmtplib.SMTPServerDisconnected):
        return PlatformError(f"SMTP disconnected: {exc}", retryable=True, code="smtp-disconnected")
    return PlatformError(f"SMTP connection: {exc}", retryable=True, code="smtp-connect")


class SmtpSender:
    """Sends OutboundMessages through the configured SMTP server."""

    def __init__(self, config: EmailConfig, clock: Callable[[], datetime]) -> None:
        self._config = config
        self._clock = clock

    async def send(self, message: OutboundMessage) -> SendResult:
        contents = await asyncio.to_thread(_read_files, message) if message.files else []
        try:
            mail, msg_id = build_reply(self._config, message, self._clock(), contents)
        except (ValueError, TypeError) as exc:  # e.g. a line break in an address: never sendable
            raise PlatformError(
                f"cannot build the mail: {exc}", retryable=False, code="invalid-message"
            ) from exc
        cfg = self._config
        try:
            await aiosmtplib.send(
                mail,
                hostname=cfg.smtp_host,
                port=cfg.smtp_port,
                username=cfg.smtp_username or None,
                password=cfg.smtp_password.get_secret_value() or None,
                use_tls=cfg.smtp_tls == "ssl",
                start_tls=True if cfg.smtp_tls == "starttls" else False,
                timeout=cfg.smtp_timeout.total_seconds(),
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise _error(exc) from exc
        return SendResult(platform_message_id=msg_id)
