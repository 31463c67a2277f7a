"""Delivery of staff notifications: email through aiosmtplib, Telegram through python-telegram-bot.

Each sender takes a stored Notification's address, subject and payload and raises
`DeliveryError` (retryable or not) when the platform refuses.
"""

from __future__ import annotations

import base64
import hashlib
import warnings
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any, Protocol

import aiosmtplib

if TYPE_CHECKING:
    from telegram import Bot

from notifier.config import SmtpConfig, TelegramConfig

CHART_CID = "digest-chart"


class DeliveryError(Exception):
    def __init__(self, message: str, *, retryable: bool, retry_after: float | None = None):
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


class Sender(Protocol):
    async def send(
        self, key: str, address: str, subject: str, payload: dict[str, Any], now: datetime
    ) -> None: ...

    async def close(self) -> None: ...


def build_email(
    config: SmtpConfig, key: str, address: str, subject: str, payload: dict[str, Any], now: datetime
) -> EmailMessage:
    """Plain text, with an HTML alternative whose chart is an inline (related) PNG."""
    mail = EmailMessage()
    local, _, domain = config.from_address.partition("@")
    mail["From"] = Address(config.from_name, local, domain)
    mail["To"] = address
    mail["Subject"] = subject
    mail["Date"] = format_datetime(now)
    # The same key always gives the same Message-ID: a retried send is one mail to clients.
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    mail["Message-ID"] = f"<{digest}@kanal.{domain or 'localhost'}>"
    mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to us, please
    mail.set_content(payload["text"])
    if payload.get("html"):
        mail.add_alternative(payload["html"], subtype="html")
        if payload.get("chart_png"):
            html_part = mail.get_payload()[-1]
            html_part.add_related(
                base64.b64decode(payload["chart_png"]),
                maintype="image",
                subtype="png",
                cid=f"<{CHART_CID}>",
                filename="grafik.png",
                disposition="inline",
            )
    return mail


class EmailSender:
    def __init__(self, config: SmtpConfig) -> None:
        self.config = config

    async def send(
        self, key: str, address: str, subject: str, payload: dict[str, Any], now: datetime
    ) -> None:
        mail = build_email(self.config, key, address, subject, payload, now)
        c = self.config
        try:
            await aiosmtplib.send(
                mail,
                hostname=c.host,
                port=c.port,
                username=c.username or None,
                password=c.password.get_secret_value() or None,
                use_tls=c.tls == "ssl",
                start_tls=True if c.tls == "starttls" else False,
                timeout=c.timeout.total_seconds(),
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            raise DeliveryError(f"recipient refused: {exc}", retryable=min(codes) < 500) from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise DeliveryError(f"{exc.code} {exc.message}", retryable=exc.code < 500) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc}", retryable=True) from exc

    async def close(self) -> None:
        return None


class TelegramSender:
    """One Bot, initialized (getMe) on first use and shut down with the notifier.

    python-telegram-bot is imported on the first send: a process whose staff get no Telegram
    notifications never loads it (with httpx, about 8 MB)."""

    def __init__(self, config: TelegramConfig) -> None:
        self.config = config
        self._bot: Bot | None = None

    async def _ready(self) -> Bot:
        if self._bot is None:
            from telegram import Bot
            from telegram.request import HTTPXRequest

            timeout = self.config.timeout.total_seconds()
            bot = Bot(
                self.config.bot_token.get_secret_value(),
                base_url=self.config.api_base,
                base_file_url=self.config.file_base,
                request=HTTPXRequest(
                    connect_timeout=timeout, read_timeout=timeout, write_timeout=timeout
                ),
            )
            await bot.initialize()
            self._bot = bot
        return self._bot

    async def send(
        self, key: str, address: str, subject: str, payload: dict[str, Any], now: datetime
    ) -> None:
        from telegram.constants import ParseMode
        from telegram.error import BadRequest, Forbidden, InvalidToken, RetryAfter, TelegramError

        try:
            bot = await self._ready()
            await bot.send_message(
                chat_id=address,
                text=payload["telegram"],
                parse_mode=ParseMode.HTML,
            )
        except RetryAfter as exc:
            with warnings.catch_warnings():  # PTB 22 warns that the type will become timedelta
                warnings.simplefilter("ignore")
                after = exc.retry_after
            seconds = after.total_seconds() if isinstance(after, timedelta) else float(after)
            raise DeliveryError(str(exc), retryable=True, retry_after=seconds) from exc
        except (Forbidden, BadRequest, InvalidToken) as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc}", retryable=False) from exc
        except TelegramError as exc:  # NetworkError, TimedOut, server errors
            raise DeliveryError(f"{type(exc).__name__}: {exc}", retryable=True) from exc

    async def close(self) -> None:
        if self._bot is not None:
            await self._bot.shutdown()
            self._bot = None
