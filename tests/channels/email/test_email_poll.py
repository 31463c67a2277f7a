"""The IMAP poller against a real Dovecot and the real intake, on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from channels.base import (
    Cursor,
    DeliveryStatus,
    Inbound,
    InboundMessage,
    IntakeResult,
    IntakeUnavailable,
    MediaResult,
    UnsupportedEvent,
)
from channels.email.channel import EmailChannel, EmailConfig
from channels.email.parse import ParseContext, parse_mail
from servers.dovecot import Dovecot
from store.db import Database
from store.models import Attachment, Message, PollCursor, RawEvent, Ticket
from support.waiting import until as wait_for
from triage.intake import Intake

FIXTURES = sorted((Path(__file__).resolve().parent / "fixtures").glob("*.eml"))


def config(dovecot: Dovecot, folder: str) -> EmailConfig:
    return EmailConfig(
        enabled=True,
        imap_host=dovecot.host,
        imap_port=dovecot.port,
        imap_tls="none",
        username=dovecot.user,
        password=dovecot.password,
        folder=folder,
        poll_interval="0.3s",
        batch_size=5,  # several intake calls per poll, each with its own cursor
        imap_timeout="5s",
        retry_initial="0.1s",
        retry_max="0.5s",
        from_address="aduan@kanal.test",
        from_name="LaporBupPati",
    )


@pytest.fixture
async def poller(
    dovecot: Dovecot, mailbox: str, intake: Intake, tmp_path: Path, clock: Callable
) -> AsyncIterator[EmailChannel]:
    channel = EmailChannel(config(dovecot, mailbox), tmp_path, clock)
    yield channel
    await channel.stop()


def cursor_value(db: Database, folder: str) -> str | None:
    with db.read() as session:
        row = session.get(PollCursor, ("email", "aduan@kanal.test", folder))
        return row.value if row else None


def raw_ids(db: Database) -> list[str]:
    with db.read() as session:
        return sorted(session.exec(select(RawEvent.external_id)).all())


def folder_state(dovecot: Dovecot, folder: str) -> tuple[int, list[int], dict]:
    with dovecot.client() as imap:
        info = imap.select_folder(folder, readonly=True)
        uids = imap.search("ALL")
        flags = imap.get_flags(uids) if uids else {}
    return info[b"UIDVALIDITY"], uids, flags


def expected_items(tmp_path: Path, paths: list[Path] = FIXTURES) -> list[Inbound]:
    ctx = ParseContext(
        account="aduan@kanal.test",
        data_dir=tmp_path / "expected",
        own_addresses=frozenset({"aduan@kanal.test"}),
        own_msgid_domain="kanal.kanal.test",
    )
    return [item for path in paths for item in parse_mail(path.read_bytes(), ctx)]


def key(item: Inbound) -> str:
    if isinstance(item, DeliveryStatus):
        return f"status:{item.platform_message_id}:{item.state.value}"
    return item.external_id


async def polls_after(channel: EmailChannel, count: int) -> None:
    target = channel.polling.completed_polls + count
    await wait_for(lambda: channel.polling.completed_polls >= target)


async def test_every_fixture_becomes_a_message_or_a_skipped_event(
    poller: EmailChannel,
    dovecot: Dovecot,
    mailbox: str,
    intake: Intake,
    db: Database,
    tmp_path: Path,
) -> None:
    for path in FIXTURES:
        dovecot.append(mailbox, path.read_bytes())
    validity, uids, _ = folder_state(dovecot, mailbox)
    await poller.start(intake)
    await wait_for(lambda: cursor_value(db, mailbox) == f"{validity}:{max(uids)}")

    expected = expected_items(tmp_path)
    with db.read() as session:
        raws = {r.external_id: r for r in session.exec(select(RawEvent)).all()}
        messages = {m.external_id: m for m in session.exec(select(Message)).all()}
        attachments = session.exec(select(Attachment)).all()
        tickets = session.exec(select(Ticket)).all()
    assert sorted(raws) == sorted(key(item) for item in expected)
    for item in expected:
        raw = raws[key(item)]
        assert raw.payload["folder"] == mailbox and raw.payload["uidvalidity"] == validity
        if isinstance(item, DeliveryStatus):  # a bounce of one of our replies
            assert (raw.kind, raw.payload["recipient"]) == ("status", "salah.ketik@gmial.com")
            continue
        if isinstance(item, UnsupportedEvent):
            assert (raw.kind, raw.error) == (item.kind, item.reason)
            assert item.external_id not in messages
            continue
        row = messages[item.external_id]
        assert (row.direction, row.sender_id, row.text) == ("in", item.sender_id, item.text)
        assert (row.subject, row.reply_to, row.references) == (
            item.subject,
            item.reply_to,
            list(item.references),
        )
        assert row.parse_error == item.parse_error
        assert raw.error == item.parse_error
    reports = [i for i in expected if isinstance(i, InboundMessage)]
    assert len(messages) == len(reports) == 17
    assert 1 <= len(tickets) <= 17
    assert sorted((a.file_name, a.fetch_state) for a in attachments) == sorted(
        (a.file_name, "stored") for i in reports for a in i.attachments
    )
    for attachment in attachments:
        assert (tmp_path / attachment.stored_path).stat().st_size == attachment.size
    # The poller marks messages seen just after the commit that moved the cursor.
    await wait_for(lambda: all(b"\\Seen" in folder_state(dovecot, mailbox)[2][u] for u in uids))
    _, _, flags = folder_state(dovecot, mailbox)
    assert all(b"\\Seen" in flags[uid] for uid in uids)

    await polls_after(poller, 2)
    assert len(raw_ids(db)) == len(expected)
    assert cursor_value(db, mailbox) == f"{validity}:{max(uids)}"
    assert poller.polling.failing is False


async def test_uidvalidity_change_duplicates_nothing(
    poller: EmailChannel,
    dovecot: Dovecot,
    mailbox: str,
    intake: Intake,
    db: Database,
    tmp_path: Path,
) -> None:
    batch = FIXTURES[:6]
    for path in batch:
        dovecot.append(mailbox, path.read_bytes())
    first_validity, uids, _ = folder_state(dovecot, mailbox)
    await poller.start(intake)
    await wait_for(lambda: cursor_value(db, mailbox) == f"{first_validity}:{max(uids)}")
    before = raw_ids(db)

    dovecot.recreate(mailbox)
    for path in [*batch, FIXTURES[6]]:
        dovecot.append(mailbox, path.read_bytes())
    validity, uids, _ = folder_state(dovecot, mailbox)
    assert validity != first_validity
    await wait_for(lambda: cursor_value(db, mailbox) == f"{validity}:{max(uids)}")

    after = raw_ids(db)
    assert before == sorted(key(i) for i in expected_items(tmp_path, batch))
    assert after == sorted(key(i) for i in expected_items(tmp_path, FIXTURES[:7]))
    with db.read() as session:
        assert len(session.exec(select(Message)).all()) == len(
            [p for p in FIXTURES[:7] if p.name.startswith("report__")]
        )


async def test_server_restart_mid_polling_loses_and_duplicates_nothing(
    poller: EmailChannel,
    dovecot: Dovecot,
    mailbox: str,
    intake: Intake,
    db: Database,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="kanal.channels.email")
    reports = [p for p in FIXTURES if p.name.startswith("report__")]
    first, second = reports[:5], reports[5:10]
    for path in first:
        dovecot.append(mailbox, path.read_bytes())
    validity, uids, _ = folder_state(dovecot, mailbox)
    await poller.start(intake)
    await wait_for(lambda: cursor_value(db, mailbox) == f"{validity}:{max(uids)}")

    dovecot.stop()
    try:
        # Several reconnects fail while the server is down; the log says so once.
        await wait_for(lambda: poller.polling.consecutive_failures >= 3)
    finally:
        dovecot.start()
    for path in second:
        dovecot.append(mailbox, path.read_bytes())
    _, uids, _ = folder_state(dovecot, mailbox)
    await wait_for(lambda: cursor_value(db, mailbox) == f"{validity}:{max(uids)}")
    await wait_for(lambda: not poller.polling.failing)

    with db.read() as session:
        messages = session.exec(select(Message)).all()
    assert len(messages) == len({m.external_id for m in messages}) == 10
    failing = [r for r in caplog.records if "is failing" in r.getMessage()]
    recovered = [r for r in caplog.records if "recovered" in r.getMessage()]
    assert (len(failing), len(recovered)) == (1, 1)


def reply_mail(sender: str, subject: str, in_reply_to: str | None, message_id: str) -> bytes:
    thread = (
        f"In-Reply-To: <{in_reply_to}>\r\nReferences: <{in_reply_to}>\r\n" if in_reply_to else ""
    )
    return (
        f"From: Warga <{sender}>\r\nTo: aduan@kanal.test\r\nSubject: {subject}\r\n"
        f"Date: Mon, 23 Nov 2026 09:00:00 +0700\r\nMessage-ID: <{message_id}>\r\n{thread}"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nLampunya masih mati sampai sekarang.\r\n"
    ).encode()


async def test_replies_join_the_ticket_by_message_id_or_ticket_number(
    poller: EmailChannel, dovecot: Dovecot, mailbox: str, intake: Intake, db: Database
) -> None:
    dovecot.append(mailbox, (Path(FIXTURES[0].parent) / "report__plain_utf8.eml").read_bytes())
    await poller.start(intake)
    await wait_for(lambda: len(raw_ids(db)) == 1)
    with db.read() as session:
        [ticket] = session.exec(select(Ticket)).all()

    # A reply from another address joins by its thread headers; a quoted number joins only
    # from the reporter's own address (anyone may have seen the number).
    original = "20261123080109.GA1234@mail.co.id"
    dovecot.append(
        mailbox, reply_mail("siti.kantor@pemda.id", "Re: Lampu", original, "r1@pemda.id")
    )
    subject = f"Tambahan untuk {ticket.number}"
    dovecot.append(mailbox, reply_mail("siti.rahayu@mail.co.id", subject, None, "r2@mail.co.id"))
    dovecot.append(mailbox, reply_mail("tetangga@mail.id", subject, None, "r3@mail.id"))
    dovecot.append(mailbox, reply_mail("lain@mail.id", "Sampah di pasar", None, "r4@mail.id"))
    await wait_for(lambda: len(raw_ids(db)) == 5)

    with db.read() as session:
        by_id = {m.external_id: m.ticket_id for m in session.exec(select(Message)).all()}
        neighbours = session.get(Ticket, by_id["r3@mail.id"])
    assert by_id["r1@pemda.id"] == by_id["r2@mail.co.id"] == by_id[original] == ticket.id
    assert by_id["r4@mail.id"] != ticket.id
    assert neighbours.id != ticket.id
    assert neighbours.flags == {"mentions": [ticket.number]}


class DatabaseDownUntilRepaired:
    """The real intake behind a database that refuses every commit until `repair()`."""

    def __init__(self, intake: Intake) -> None:
        self.intake, self.down = intake, True

    def repair(self) -> None:
        self.down = False

    async def submit(self, items: Sequence[Inbound], cursor: Cursor | None = None) -> IntakeResult:
        if self.down:
            raise IntakeUnavailable("database is down")
        return await self.intake.submit(items, cursor)

    async def read_cursor(self, channel: str, account: str, name: str) -> str | None:
        return await self.intake.read_cursor(channel, account, name)

    async def record_media(self, result: MediaResult) -> None:
        await self.intake.record_media(result)


async def test_database_outage_delays_but_loses_nothing(
    poller: EmailChannel,
    dovecot: Dovecot,
    mailbox: str,
    intake: Intake,
    db: Database,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    caplog.set_level(logging.INFO, logger="kanal.channels.email")
    for path in FIXTURES[:12]:
        dovecot.append(mailbox, path.read_bytes())
    validity, uids, _ = folder_state(dovecot, mailbox)
    sink = DatabaseDownUntilRepaired(intake)
    await poller.start(sink)
    await wait_for(lambda: poller.polling.consecutive_failures >= 3)
    # Fetched several times, but read with BODY.PEEK[]: nothing is marked read until stored.
    _, _, flags = folder_state(dovecot, mailbox)
    assert not any(b"\\Seen" in flags[uid] for uid in uids)
    sink.repair()
    await wait_for(lambda: cursor_value(db, mailbox) == f"{validity}:{max(uids)}")

    assert raw_ids(db) == sorted(key(i) for i in expected_items(tmp_path, FIXTURES[:12]))
    await wait_for(lambda: all(b"\\Seen" in folder_state(dovecot, mailbox)[2][u] for u in uids))
    _, _, flags = folder_state(dovecot, mailbox)
    assert all(b"\\Seen" in flags[uid] for uid in uids)
    messages = [r.getMessage() for r in caplog.records]
    assert [m for m in messages if "is failing" in m] == [
        f"email polling of aduan@kanal.test/{mailbox} is failing, retrying with back-off: "
        "IntakeUnavailable: database is down"
    ]
    assert [m for m in messages if "recovered" in m] == [
        f"email polling of aduan@kanal.test/{mailbox} recovered"
    ]


async def test_idle_brings_new_mail_long_before_the_poll_interval(
    dovecot: Dovecot, mailbox: str, intake: Intake, db: Database, tmp_path: Path, clock: Callable
) -> None:
    slow = config(dovecot, mailbox).model_copy(update={"poll_interval": timedelta(minutes=10)})
    channel = EmailChannel(slow, tmp_path, clock)
    await channel.start(intake)
    try:
        await polls_after(channel, 1)
        dovecot.append(mailbox, FIXTURES[-1].read_bytes())
        # Without IDLE the mail would wait ten minutes for the next poll.
        await wait_for(lambda: len(raw_ids(db)) == 1, timeout=10)
        logouts = dovecot.log(tail=None).count("Disconnected: Logged out")
    finally:
        await channel.stop()
    assert channel.polling.completed_polls == 2
    # stop() ends IDLE and logs out properly rather than dropping the connection.
    await wait_for(lambda: dovecot.log(tail=None).count("Disconnected: Logged out") == logouts + 1)
