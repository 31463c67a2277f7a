"""Keeping configured secrets out of what Kanal prints: masked URLs and a masking log filter."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, unquote, urlencode, urlsplit, urlunsplit

from pydantic import BaseModel, SecretStr

MASK = "********"
# Query parameters that carry a credential (libpq takes `?password=`, Graph `access_token`).
_SECRET_PARAMS = frozenset(
    {"password", "passwd", "pwd", "secret", "token", "access_token", "api_key", "apikey", "key"}
)
# A shorter value cannot be kept secret anyway, and masking it would blank out ordinary words.
MIN_SECRET_LENGTH = 4
# Libraries that log every request's URL at INFO; the Telegram Bot API puts the token in it.
CHATTY_LOGGERS = ("httpx", "httpcore")


def mask_url(value: str) -> str:
    """`value` with the password of its user info and credential query parameters masked."""
    if "://" not in value:
        return value
    try:
        parts = urlsplit(value)
        password = parts.password
    except ValueError:  # not a URL after all (a bad port, a stray bracket)
        return value
    netloc = parts.netloc
    if password:
        userinfo, _, host = netloc.rpartition("@")
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:{MASK}@{host}"
    query = parts.query
    pairs = parse_qsl(query, keep_blank_values=True)
    if any(name.lower() in _SECRET_PARAMS for name, _ in pairs):
        query = urlencode(
            [(n, MASK if n.lower() in _SECRET_PARAMS else v) for n, v in pairs], safe="*"
        )
    if (netloc, query) == (parts.netloc, parts.query):
        return value  # rebuilt, `sqlite:///x` would lose its empty host
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def url_secrets(value: str) -> list[str]:
    """The password and credential query values a URL holds, as written and decoded."""
    if "://" not in value:
        return []
    try:
        parts = urlsplit(value)
        found = [parts.password] if parts.password else []
    except ValueError:
        return []
    found += [v for n, v in parse_qsl(parts.query) if n.lower() in _SECRET_PARAMS and v]
    return found + [unquote(s) for s in found]


def configured_secrets(config: BaseModel) -> set[str]:
    """Every secret the loaded config holds: secret values, and passwords inside URLs."""
    found: set[str] = set()
    for value in _leaves(config):
        if isinstance(value, SecretStr):
            found.add(value.get_secret_value())
        elif isinstance(value, str):
            found.update(url_secrets(value))
    return {s for s in found if len(s) >= MIN_SECRET_LENGTH}


def _leaves(value: Any) -> Iterator[Any]:
    if isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _leaves(getattr(value, name))
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _leaves(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    else:
        yield value


class SecretMask(logging.Filter):
    """Replaces every secret in a record's message, traceback and stack with MASK.

    Attached to handlers, not loggers: a logger's filter never sees its children's records.
    """

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        forms = set()
        for secret in secrets:
            if len(secret) >= MIN_SECRET_LENGTH:
                # As written, and as it appears in a URL's path or query string.
                forms.update({secret, quote(secret, safe=""), quote_plus(secret)})
        # Longest first, so that a secret containing another is masked whole.
        self.secrets = sorted(forms, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        masked = self.mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            # Formatted here once, so every handler prints the masked text.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.mask(record.exc_text)
        if record.stack_info:
            record.stack_info = self.mask(record.stack_info)
        return True

    def mask(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return text


def protect_logs(secrets: Iterable[str], root: logging.Logger | None = None) -> SecretMask:
    """Mask `secrets` in every handler of the root logger, and quiet the per-request loggers."""
    for name in CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    mask = SecretMask(secrets)
    for handler in (root or logging.getLogger()).handlers:
        handler.addFilter(mask)
    return mask
