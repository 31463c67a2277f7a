"""No configured secret reaches a log: a real `main.py --log-level DEBUG serve` with every channel
enabled against the fakes (and Dovecot, and an aiosmtpd that wants a password) takes a report in
and sends a reply out on each, and its whole output is searched for every secret."""

from __future__ import annotations

import asyncio
import json
import signal
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, quote_plus

import aiohttp
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlmodel import col, select

from conftest import corpus_dir
from fake_meta_graph import FakeGraph
from fake_meta_graph_seed import FB_PAGE, IG_ACCOUNT, IG_PAGE, seed_facebook, seed_instagram
from fake_telegram_api import FakeTelegramBotApi
from fake_telegram_updates import TelegramUpdates
from fake_whatsapp_cloud import FakeWhatsAppCloud
from fake_whatsapp_webhooks import FIXTURES, OUR_ACCOUNT, post_webhook, webhook_cases
from fake_x_api import FakeXApi, load_corpus
from processes import kanal_command
from servers.dovecot import Dovecot
from servers.smtp import CapturingHandler
from store import migrate
from store.db import Database
from store.models import Message, Ticket
from store.users import add_user, create_token
from support.local_server import free_port
from support.paths import fixtures_of
from support.waiting import until

pytestmark = [
    pytest.mark.empty_database,  # Alembic builds the schema itself
    pytest.mark.slow,
    # The SMTP fake asks for a password over plain TCP, as a local relay may.
    pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS"),
]
T = TypeVar("T")

# Distinctive values, so that a hit in the log can only be the secret itself.
WA_APP_SECRET = "wa-app-secret-Q7vX2k"
WA_VERIFY = "wa-verify-token-L3pZ8r"
WA_ACCESS = "EAAwa-access-token-R9sT4u"
GRAPH_TOKEN = "EAAgraph-page-token-M2nB6c"
META_APP_SECRET = "meta-app-secret-H5jK1w"
META_VERIFY = "meta-verify-token-D8fG3y"
X_SECRETS = {
    "bearer_token": "AAAAx-bearer-token-P4qW7e",
    "consumer_key": "x-consumer-key-Z1aS5d",
    "consumer_secret": "x-consumer-secret-C6vF2g",
    "access_token": "783214-x-access-token-N8mJ3h",
    "access_token_secret": "x-access-secret-T2yU9i",
}
TG_TOKEN = "7312345:tg-bot-token-K4lO0p"
SMTP_PASSWORD = "smtp-password-V3bN7m"
DB_PASSWORD = "db-password-X9cE1r"
NOTIFIER_TG = "7998877:notifier-bot-token-F6gH2j"
NOTIFIER_SMTP = "notifier-smtp-password-J5kL8z"

X_ACCOUNT, ALICE = "783214", "1500000000000000001"
FB_DM = "m_SriWahyuni02_lokasi"
REPLY = "Terima kasih, laporan Anda sedang kami periksa."


@dataclass
class Fakes:
    whatsapp: FakeWhatsAppCloud
    graph: FakeGraph
    x: FakeXApi
    telegram: FakeTelegramBotApi
    smtp_port: int
    smtp: CapturingHandler


class _OnePassword:
    """aiosmtpd authenticator: the mailbox `aduan@kanal.test` with SMTP_PASSWORD."""

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any):
        ok = isinstance(data, LoginPassword) and data.password == SMTP_PASSWORD.encode()
        return AuthResult(success=ok)


@pytest.fixture
def smtp_with_auth() -> Iterator[tuple[int, CapturingHandler]]:
    handler, port = CapturingHandler(), free_port()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        authenticator=_OnePassword(),
        auth_require_tls=False,  # the fake has no certificate; Kanal's side is the same
        auth_required=True,
    )
    controller.start()
    try:
        yield port, handler
    finally:
        controller.stop()


@pytest.fixture
async def fakes(smtp_with_auth: tuple[int, CapturingHandler]) -> AsyncIterator[Fakes]:
    def now() -> datetime:
        return datetime.now(UTC)  # the process under test runs on the real clock

    whatsapp = await FakeWhatsAppCloud(access_token=WA_ACCESS).start()
    graph = await FakeGraph(clock=now, access_token=GRAPH_TOKEN).start()
    seed_facebook(graph, corpus_dir("facebook"), now())
    seed_instagram(graph, corpus_dir("instagram"), now())
    x = await FakeXApi(load_corpus(corpus_dir("twitter")), now, me=X_ACCOUNT).start()
    x.add_user(ALICE, "alice_pati", "Alice Rahayu")
    telegram = await FakeTelegramBotApi(token=TG_TOKEN).start()
    try:
        yield Fakes(whatsapp, graph, x, telegram, *smtp_with_auth)
    finally:
        for fake in (whatsapp, graph, x, telegram):
            await fake.stop()


def _with_password(url: str) -> str:
    """The test database's URL with a password in it (trust auth ignores it)."""
    if not url.startswith("postgresql"):
        return url
    scheme, rest = url.split("://", 1)
    user, host = rest.split("@", 1)
    return f"{scheme}://{user}:{DB_PASSWORD}@{host}"


def _config(
    fakes: Fakes, dovecot: Dovecot, mailbox: str, db_url: str, port: int, log_format: str
) -> str:
    meta = {
        "enabled": True,
        "page_id": FB_PAGE,
        "access_token": GRAPH_TOKEN,
        "api_base": fakes.graph.api_base,
        "poll_interval": "0.3s",
        "request_pause": "0s",
        "sources": ["messages"],
        "app_secret": META_APP_SECRET,
        "verify_token": META_VERIFY,
    }
    document: dict[str, Any] = {
        "data_dir": "data",
        "server": {"port": port},
        "logging": {"format": log_format},
        "database": {"url": db_url},
        "channels": {
            "whatsapp": {
                "enabled": True,
                "verify_token": WA_VERIFY,
                "app_secret": WA_APP_SECRET,
                "access_token": WA_ACCESS,
                "phone_number_id": OUR_ACCOUNT,
                "api_base": fakes.whatsapp.api_base,
            },
            "facebook": meta,
            "instagram": meta | {"page_id": IG_PAGE, "instagram_account_id": IG_ACCOUNT},
            "x": {
                "enabled": True,
                "user_id": X_ACCOUNT,
                **X_SECRETS,
                "poll_interval": "0.3s",
                "api_base": fakes.x.api_base,
            },
            "telegram": {
                "enabled": True,
                "bot_token": TG_TOKEN,
                "api_base": f"http://127.0.0.1:{fakes.telegram.port}",
                "poll_interval": "0.1s",
                "long_poll": "1s",
            },
            "email": {
                "enabled": True,
                "imap_host": dovecot.host,
                "imap_port": dovecot.port,
                "imap_tls": "none",
                "username": dovecot.user,
                "password": dovecot.password,
                "folder": mailbox,
                "poll_interval": "0.3s",
                "smtp_host": "127.0.0.1",
                "smtp_port": fakes.smtp_port,
                "smtp_tls": "none",
                "smtp_username": dovecot.user,
                "smtp_password": SMTP_PASSWORD,
                "from_address": dovecot.user,
            },
        },
        # Not enabled, but configured: their secrets must stay out of the log all the same.
        "notifier": {
            "telegram": {"bot_token": NOTIFIER_TG},
            "smtp": {"host": "127.0.0.1", "password": NOTIFIER_SMTP},
        },
    }
    return _toml(document)


def _toml(table: dict[str, Any], prefix: str = "") -> str:
    """A small TOML writer for the config above (strings, numbers, lists, nested tables)."""
    scalars = [f"{k} = {json.dumps(v)}" for k, v in table.items() if not isinstance(v, dict)]
    lines = ([f"[{prefix}]"] if prefix and scalars else []) + scalars
    for key, value in table.items():
        if isinstance(value, dict):
            lines.append(_toml(value, f"{prefix}.{key}" if prefix else key))
    return "\n".join(lines)


def ticket_of(db: Database, external_id: str) -> Ticket | None:
    with db.read() as session:
        message = session.exec(select(Message).where(Message.external_id == external_id)).first()
        return session.get(Ticket, message.ticket_id) if message else None


def first_ticket_on(db: Database, channel: str) -> Ticket | None:
    with db.read() as session:
        query = select(Ticket).where(Ticket.channel == channel).order_by(col(Ticket.id))
        return session.exec(query).first()


def sent_reply(db: Database, ticket: Ticket) -> Message | None:
    with db.read() as session:
        query = select(Message).where(
            Message.ticket_id == ticket.id, Message.direction == "out", Message.text == REPLY
        )  # the operator's reply, not the acknowledgement intake sent before it
        found = session.exec(query).first()
    return found if found is not None and found.platform_message_id else None


async def wait_healthy(
    http: aiohttp.ClientSession, base: str, server: asyncio.subprocess.Process
) -> None:
    async with asyncio.timeout(60):
        while True:
            assert server.returncode is None, "the server exited during start-up"
            try:
                async with http.get(f"{base}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)


def leaks(log: str, secrets: list[str]) -> list[str]:
    """Each secret found in the log, as written or URL-encoded."""
    return [
        secret
        for secret in secrets
        if any(form in log for form in {secret, quote(secret, safe=""), quote_plus(secret)})
    ]


@pytest.mark.parametrize("log_format", ["text", "json"])
async def test_a_full_cycle_on_every_channel_logs_no_secret(
    database_url: str,
    tmp_path: Path,
    fakes: Fakes,
    dovecot: Dovecot,
    mailbox: str,
    log_format: str,
) -> None:
    db_url = _with_password(database_url)
    migrate.upgrade(db_url)
    db = Database(db_url)
    with db.write() as session:
        add_user(session, "operator1", "rahasia-sekali", "operator", now=datetime.now(UTC))
        api_token = create_token(session, "operator1", now=datetime.now(UTC))
    port = free_port()
    config = tmp_path / "config.toml"
    config.write_text(_config(fakes, dovecot, mailbox, db_url, port, log_format), encoding="utf-8")
    log_path = tmp_path / "kanal.log"
    command = kanal_command(config, "--log-level", "DEBUG", "serve")
    with log_path.open("wb") as output:
        server = await asyncio.create_subprocess_exec(
            *command, cwd=tmp_path, stdout=output, stderr=asyncio.subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            await wait_healthy(http, base, server)
            await _one_cycle_per_channel(http, base, api_token, db, fakes, dovecot, mailbox)
    finally:
        server.send_signal(signal.SIGTERM)  # shutting down logs too
        async with asyncio.timeout(30):
            await server.wait()
        db.dispose()

    log = log_path.read_text(encoding="utf-8", errors="replace")
    if log_format == "text":
        assert " DEBUG " in log and "Kanal for" in log  # the whole run was logged, at DEBUG
    else:
        events = [json.loads(line) for line in log.splitlines() if line.strip()]  # every line
        assert any(e["level"] == "DEBUG" for e in events)
        assert any(e["message"].startswith("Kanal for") for e in events)
        # The pollers' lines name their channel, through the tasks they started.
        assert {e.get("channel") for e in events} >= {"telegram", "x", "email", "facebook"}
    secrets = [
        WA_APP_SECRET,
        WA_VERIFY,
        WA_ACCESS,
        GRAPH_TOKEN,
        META_APP_SECRET,
        META_VERIFY,
        *X_SECRETS.values(),
        TG_TOKEN,
        SMTP_PASSWORD,
        dovecot.password,
        NOTIFIER_TG,
        NOTIFIER_SMTP,
        api_token,
    ]
    if db_url != database_url:
        secrets.append(DB_PASSWORD)
    assert leaks(log, secrets) == []


async def _one_cycle_per_channel(
    http: aiohttp.ClientSession,
    base: str,
    api_token: str,
    db: Database,
    fakes: Fakes,
    dovecot: Dovecot,
    mailbox: str,
) -> None:
    """Report in and reply out on each channel, all at once."""
    webhook = f"{base}/webhooks/whatsapp"
    fakes.whatsapp.status_hook = (webhook, WA_APP_SECRET)  # delivery receipts come back signed
    handshake = {"hub.mode": "subscribe", "hub.verify_token": WA_VERIFY, "hub.challenge": "42"}
    async with http.get(webhook, params=handshake) as response:
        assert (response.status, await response.text()) == (200, "42")
    report = json.loads(
        webhook_cases(corpus_dir("whatsapp"), FIXTURES)["fixtures/text__indonesian_unicode"]
    )
    message = report["entry"][0]["changes"][0]["value"]["messages"][0]
    message["timestamp"] = str(int(datetime.now(UTC).timestamp()))  # inside the reply window
    assert await post_webhook(http, webhook, report, WA_APP_SECRET) == (200, "ok")
    wamid = message["id"]
    fakes.x.mention(X_ACCOUNT, ALICE, "@pemkab jembatan Desa Kayen retak")
    TelegramUpdates(fakes.telegram).push(
        json.loads((fixtures_of("telegram") / "message__text.json").read_text())
    )
    mail = fixtures_of("email") / "report__plain_utf8.eml"
    dovecot.append(mailbox, mail.read_bytes())

    found = {
        "whatsapp": lambda: ticket_of(db, wamid),
        "facebook": lambda: ticket_of(db, FB_DM),
        "instagram": lambda: first_ticket_on(db, "instagram"),
        "x": lambda: first_ticket_on(db, "x"),
        "telegram": lambda: first_ticket_on(db, "telegram"),
        "email": lambda: first_ticket_on(db, "email"),
    }
    tickets = dict(zip(found, await asyncio.gather(*map(until, found.values())), strict=True))
    headers = {"Authorization": f"Bearer {api_token}"}
    for ticket in tickets.values():
        body = {"action": "reply", "message": REPLY}
        url = f"{base}/api/tickets/{ticket.number}/actions"
        async with http.post(url, json=body, headers=headers) as response:
            assert response.status == 200, await response.text()
    await asyncio.gather(
        *(until(lambda t=t: sent_reply(db, t), timeout=60, interval=0.1) for t in tickets.values())
    )
    # The WhatsApp receipt came back by signed webhook; the reply mail went out after AUTH.
    await until(
        lambda: (m := sent_reply(db, tickets["whatsapp"])) and m.delivery_state != "sent",
        timeout=60,
        interval=0.1,
    )
    acknowledgement, mail = fakes.smtp.received  # intake's, then the operator's reply
    for sent in (acknowledgement, mail):
        assert tickets["email"].number in sent.message["Subject"]
