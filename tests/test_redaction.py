"""The masking log filter and the secrets it is given, from a loaded config."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

from observability.context import bound
from observability.logs import configure_logging
from redaction import MASK, configured_secrets, mask_url, protect_logs
from settings import parse_settings

TOKEN = "7312345:AAH-bot-token/with+odd=chars"
DB_PASSWORD = "p@ss/w0rd"


def settings():
    document = {
        "database": {"url": "postgresql+psycopg://kanal:p%40ss%2Fw0rd@db.example/kanal"},
        "channels": {"telegram": {"enabled": True, "bot_token": TOKEN}},
        "notifier": {"smtp": {"password": "abc"}},  # too short to mask without harm
    }
    return parse_settings(document, Path("config.toml"))


def test_the_config_gives_every_secret_and_the_database_password() -> None:
    found = configured_secrets(settings())
    assert {TOKEN, "p%40ss%2Fw0rd", DB_PASSWORD} <= found
    assert "abc" not in found


def test_every_record_is_masked_message_arguments_traceback_and_encoded_forms() -> None:
    root = logging.Logger("redaction-test", logging.DEBUG)
    output = io.StringIO()
    root.addHandler(logging.StreamHandler(output))
    protect_logs(configured_secrets(settings()), root)
    log = logging.getLogger("redaction-test-child")
    log.parent = root  # a child's record reaches the root's handler, filter and all

    log.info("HTTP Request: POST http://api/bot%s/getUpdates", TOKEN)
    log.warning("fetched %s", "https://api/x?token=7312345%3AAAH-bot-token%2Fwith%2Bodd%3Dchars")
    try:
        raise RuntimeError(f"cannot connect with {DB_PASSWORD}")
    except RuntimeError:
        log.exception("database down")

    text = output.getvalue()
    for form in (TOKEN, DB_PASSWORD, "7312345%3AAAH-bot-token%2Fwith%2Bodd%3Dchars"):
        assert form not in text
    assert f"http://api/bot{MASK}/getUpdates" in text
    assert f"RuntimeError: cannot connect with {MASK}" in text
    assert logging.getLogger("httpx").level == logging.WARNING


def test_json_lines_are_masked_in_every_field() -> None:
    """`[logging] format = "json"`: the same masking, before and after the JSON encoding (where
    a secret's `"` or `\\` would be escaped past a plain search)."""
    root = logging.Logger("redaction-json-test", logging.DEBUG)
    output = io.StringIO()
    root.addHandler(logging.StreamHandler(output))
    configure_logging("json", configured_secrets(settings()), root)
    log = logging.getLogger("redaction-json-test-child")
    log.parent = root

    with bound(ticket="LBP-2026-00042", channel="telegram", request_id=TOKEN):
        log.info("HTTP Request: POST http://api/bot%s/getUpdates", TOKEN)
    try:
        raise RuntimeError(f"cannot connect with {DB_PASSWORD}")
    except RuntimeError:
        log.exception("database down")

    text = output.getvalue()
    for form in (TOKEN, DB_PASSWORD, json.dumps(TOKEN)[1:-1], json.dumps(DB_PASSWORD)[1:-1]):
        assert form not in text
    request, failure = (json.loads(line) for line in text.splitlines())
    assert request["message"] == f"HTTP Request: POST http://api/bot{MASK}/getUpdates"
    assert (request["ticket"], request["channel"]) == ("LBP-2026-00042", "telegram")
    assert request["request_id"] == MASK  # context fields are masked too
    assert failure["message"] == "database down" and failure["level"] == "ERROR"
    assert failure["exception"].endswith(f"RuntimeError: cannot connect with {MASK}")


def test_urls_keep_their_shape_with_the_password_masked() -> None:
    assert mask_url("sqlite:///data/kanal.db") == "sqlite:///data/kanal.db"
    assert mask_url("postgresql://u:secret@h:5432/d?sslmode=require") == (
        f"postgresql://u:{MASK}@h:5432/d?sslmode=require"
    )
    assert mask_url("postgresql://u@h/d?password=secret") == f"postgresql://u@h/d?password={MASK}"
    assert mask_url("not a url") == "not a url"
