"""An aiosmtpd server on a free port that keeps what Kanal sends, or refuses it on demand."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from support.local_server import free_port


@dataclass
class Captured:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class CapturingHandler:
    """Stores each accepted message; `reply` set to e.g. "421 ..." answers DATA with that."""

    received: list[Captured] = field(default_factory=list)
    reply: str | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.reply is not None:
            return self.reply
        message = BytesParser(policy=policy.default).parsebytes(envelope.original_content)
        self.received.append(Captured(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 2.0.0 Message accepted for delivery"


@dataclass
class SmtpServer:
    host: str
    port: int
    handler: CapturingHandler

    @property
    def received(self) -> list[Captured]:
        return self.handler.received


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    handler = CapturingHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", port, handler)
    finally:
        controller.stop()
