"""The request, ticket and channel a piece of work is about, carried to its log lines.

A leaf module any package but `channels/` may import: contextvars follow a request through
`await`, `asyncio.to_thread` and the tasks it creates, so the handler, intake and outbox need
not pass them along by hand.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar, Token

REQUEST_ID: ContextVar[str | None] = ContextVar("kanal_request_id", default=None)
TICKET: ContextVar[str | None] = ContextVar("kanal_ticket", default=None)
CHANNEL: ContextVar[str | None] = ContextVar("kanal_channel", default=None)

# The record attribute each variable becomes, in the order JSON lines show them.
FIELDS: dict[str, ContextVar[str | None]] = {
    "ticket": TICKET,
    "channel": CHANNEL,
    "request_id": REQUEST_ID,
}


class bound:  # lower case: used like a function, `with bound(ticket=...)`
    """Within the block, log lines carry the given values (those left None stay as they were).

    A plain class, not a generator: the web app enters one per request."""

    __slots__ = ("_given", "_tokens")

    def __init__(
        self,
        *,
        ticket: str | None = None,
        channel: str | None = None,
        request_id: str | None = None,
    ) -> None:
        self._given = ((TICKET, ticket), (CHANNEL, channel), (REQUEST_ID, request_id))
        self._tokens: list[tuple[ContextVar[str | None], Token[str | None]]] = []

    def __enter__(self) -> None:
        self._tokens = [(var, var.set(value)) for var, value in self._given if value]

    def __exit__(self, *exc: object) -> None:
        for var, token in reversed(self._tokens):
            var.reset(token)


class ContextFields(logging.Filter):
    """Copies the current request id, ticket and channel onto each record it sees.

    A handler filter: it runs in the thread and context that logged, before any formatter.
    A value given explicitly (`extra={"ticket": ...}`) is kept."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, var in FIELDS.items():
            if getattr(record, name, None) is None:
                setattr(record, name, var.get())
        return True
