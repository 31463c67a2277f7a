"""Structured logs through the real app: one JSON object per line, with the request id (the
caller's X-Request-ID when it is sane), the channel of a webhook and the ticket an outbox send
is for; configured secrets masked in every field."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlmodel import select

from conftest import FixedClock
from fake_whatsapp_cloud import UNDELIVERABLE, FakeWhatsAppCloud
from fake_whatsapp_webhooks import FIXTURES, OUR_ACCOUNT, post_webhook
from observability.context import ContextFields, bound
from observability.logs import JsonFormatter
from redaction import MASK, SecretMask
from runtime import build_runtime
from settings import parse_settings
from store.db import Database
from store.models import OutboxItem, Ticket
from support.kanal_server import kanal_server
from support.waiting import until
from triage.action_requests import Reply

APP_SECRET = "logs-app-secret-Z8q"
REPORT = json.loads((FIXTURES / "text__indonesian_unicode.json").read_text(encoding="utf-8"))
T = TypeVar("T")


class JsonLines:
    def __init__(self, stream: io.StringIO) -> None:
        self.stream = stream

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.text.splitlines()]

    def about(self, fragment: str) -> dict[str, Any]:
        [event] = [e for e in self.events() if fragment in e["message"]]
        return event


@pytest.fixture
def json_logs(fake: FakeWhatsAppCloud) -> Iterator[JsonLines]:
    """The root logger writing JSON lines, as main.py sets it up with `format = "json"`."""
    root = logging.getLogger()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    mask = SecretMask([APP_SECRET, fake.access_token])
    handler.addFilter(mask)
    handler.addFilter(ContextFields())
    handler.setFormatter(JsonFormatter(mask))
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield JsonLines(stream)
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


@pytest.fixture
async def fake() -> AsyncIterator[FakeWhatsAppCloud]:
    server = await FakeWhatsAppCloud().start()
    yield server
    await server.stop()


@pytest.fixture
async def app(
    db: Database, tmp_path: Path, clock: FixedClock, fake: FakeWhatsAppCloud
) -> AsyncIterator[tuple[Any, TestServer, aiohttp.ClientSession]]:
    document: dict[str, Any] = {
        "data_dir": str(tmp_path / "data"),
        "database": {"url": db.url},
        "logging": {"format": "json"},
        "channels": {
            "whatsapp": {
                "enabled": True,
                "verify_token": "logs-verify",
                "app_secret": APP_SECRET,
                "access_token": fake.access_token,
                "phone_number_id": OUR_ACCOUNT,
                "api_base": fake.api_base,
                "acknowledge": False,  # one reply per test: the operator's
            }
        },
    }
    runtime = build_runtime(parse_settings(document, tmp_path / "config.toml"), tmp_path, db)
    runtime.clock = clock
    async with kanal_server(runtime) as server, aiohttp.ClientSession() as http:
        yield runtime, server, http


async def post_unsigned(
    server: TestServer, http: aiohttp.ClientSession, headers: dict[str, str]
) -> str:
    url = str(server.make_url("/webhooks/whatsapp"))
    sent = {"X-Hub-Signature-256": "sha256=00", **headers}
    async with http.post(url, json=REPORT, headers=sent) as response:
        assert response.status == 401
        return response.headers["X-Request-ID"]


async def test_a_webhook_line_carries_the_callers_request_id_and_the_channel(
    app: Any, json_logs: JsonLines
) -> None:
    _, server, http = app
    answered = await post_unsigned(server, http, {"X-Request-ID": "nginx-7f3a:01"})
    assert answered == "nginx-7f3a:01"
    event = json_logs.about("missing or wrong signature")
    assert event["level"] == "WARNING"
    assert event["logger"] == "channels.whatsapp.channel"
    assert (event["request_id"], event["channel"]) == ("nginx-7f3a:01", "whatsapp")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", event["time"])
    assert "ticket" not in event  # not known for a refused delivery


@pytest.mark.parametrize("given", ["", "two\nlines", "x" * 129, 'quote"d', "spasi di tengah", "é"])
async def test_an_odd_request_id_is_replaced_by_our_own(
    app: Any, json_logs: JsonLines, given: str
) -> None:
    _, server, http = app
    headers = {"X-Request-ID": given} if "\n" not in given else {}
    answered = await post_unsigned(server, http, headers)
    assert re.fullmatch(r"[0-9a-f]{32}", answered)
    assert json_logs.about("missing or wrong signature")["request_id"] == answered


async def test_a_failed_send_names_its_ticket_and_channel_and_no_secret(
    app: Any, json_logs: JsonLines, fake: FakeWhatsAppCloud, db: Database
) -> None:
    runtime, server, http = app
    url = str(server.make_url("/webhooks/whatsapp"))
    assert await post_webhook(http, url, REPORT, APP_SECRET) == (200, "ok")
    with db.read() as session:
        number = session.exec(select(Ticket.number)).one()
    fake.fail_next(UNDELIVERABLE)
    runtime.actions.apply(number, Reply(message="Terima kasih."), actor="operator1")

    def failed() -> bool:
        with db.read() as session:
            return session.exec(select(OutboxItem.state)).one() == "failed"

    await until(failed)
    event = json_logs.about("outbox: send failed")
    assert (event["ticket"], event["channel"]) == (number, "whatsapp")
    assert "request_id" not in event  # the outbox worker serves no request
    # A request id is the caller's: a secret sent as one is masked like any other.
    await post_unsigned(server, http, {"X-Request-ID": APP_SECRET})
    refused = [e for e in json_logs.events() if "wrong signature" in e["message"]]
    assert refused[-1]["request_id"] == MASK
    assert APP_SECRET not in json_logs.text and fake.access_token not in json_logs.text


def test_a_traceback_stays_inside_its_one_line() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(ContextFields())
    handler.setFormatter(JsonFormatter())
    log = logging.Logger("logs-test")
    log.addHandler(handler)
    with bound(ticket="LBP-2026-00042", channel="email"):
        try:
            raise ValueError("line one\nline two \udc80")
        except ValueError:
            log.exception("sweep failed for %s", "LBP-2026-00042")
    [line] = stream.getvalue().splitlines()
    event = json.loads(line)
    assert event["message"] == "sweep failed for LBP-2026-00042"
    assert (event["ticket"], event["channel"]) == ("LBP-2026-00042", "email")
    assert event["exception"].startswith("Traceback") and "line two" in event["exception"]
    with bound(ticket="LBP-2026-00043"):
        log.info("inner")
    log.info("after")
    inner, after = (json.loads(x) for x in stream.getvalue().splitlines()[1:])
    assert inner["ticket"] == "LBP-2026-00043" and "ticket" not in after
