"""How Kanal's log lines look: the readable text line, or one JSON object per line for a log
collector; in both, configured secrets are masked before anything is written."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from observability.context import FIELDS, ContextFields
from redaction import SecretMask, protect_logs

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """One event per line: time (UTC), level, logger, message, and the ticket, channel and
    request id when known; a traceback as `exception`.

    Every string passes through the secret mask once more, after the handler's masking filter
    has run: the context fields come from outside the message (a request's X-Request-ID)."""

    def __init__(self, mask: SecretMask | None = None) -> None:
        super().__init__()
        self.mask = mask

    def format(self, record: logging.LogRecord) -> str:
        event: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                event[name] = str(value)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            event["exception"] = record.exc_text
        if record.stack_info:
            event["stack"] = self.formatStack(record.stack_info)
        if self.mask is not None:
            event = {k: self.mask.mask(v) if isinstance(v, str) else v for k, v in event.items()}
        # ASCII escapes: newlines in a message or traceback never split the event, and a lone
        # surrogate from a platform's payload cannot make the write fail.
        return json.dumps(event, ensure_ascii=True)


def configure_logging(
    log_format: str, secrets: Iterable[str], root: logging.Logger | None = None
) -> SecretMask:
    """Mask `secrets` in every handler of the root logger, carry the request, ticket and
    channel onto each record, and write JSON lines if `log_format` is "json"."""
    root = root or logging.getLogger()
    mask = protect_logs(secrets, root)
    context = ContextFields()
    for handler in root.handlers:
        handler.addFilter(context)
        if log_format == "json":
            handler.setFormatter(JsonFormatter(mask))
    return mask
