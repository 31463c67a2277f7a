"""One bad mail never stops the IMAP poller: real Dovecot, real intake, SQLite and PostgreSQL."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from mails import good_mail, header_injection_mail, large_attachment_mail
from sqlmodel import select
from test_email_poll import config, cursor_value, folder_state

from channels.base import Cursor, Inbound, IntakeResult, MediaResult
from channels.email.channel import EmailChannel, EmailConfig
from servers.dovecot import Dovecot
from store.db import Database
from store.models import Message, RawEvent
from support.waiting import until as wait_for
from triage.intake import Intake

GOOD = [f"good-{i}@mail.id" for i in range(6)]


@dataclass
class Box:
    """One test's mailbox on the real Dovecot, and what a poller of it writes into."""

    dovecot: Dovecot
    name: str
    intake: Intake
    db: Database
    tmp_path: Path
    clock: Callable

    def append(self, raws: list[bytes]) -> str:
        """Append mails in order with one connection; returns the cursor after the last one."""
        with self.dovecot.client() as imap:
            for raw in raws:
                imap.append(self.name, raw)
        validity, uids, _ = folder_state(self.dovecot, self.name)
        return f"{validity}:{max(uids)}"

    def config(self, **changes: object) -> EmailConfig:
        return config(self.dovecot, self.name).model_copy(update=changes)

    async def poll(
        self, end: str, cfg: EmailConfig | None = None, sink: object = None
    ) -> EmailChannel:
        """Run a poller (into the real intake unless `sink`) until its cursor reaches `end`."""
        channel = EmailChannel(cfg or self.config(), self.tmp_path, self.clock)
        await channel.start(sink or self.intake)  # type: ignore[arg-type]
        try:
            await wait_for(lambda: cursor_value(self.db, self.name) == end)
        finally:
            await channel.stop()
        return channel

    def messages(self) -> dict[str, Message]:
        with self.db.read() as session:
            return {m.external_id: m for m in session.exec(select(Message)).all()}


@pytest.fixture
def box(
    dovecot: Dovecot, mailbox: str, intake: Intake, db: Database, tmp_path: Path, clock: Callable
) -> Box:
    return Box(dovecot, mailbox, intake, db, tmp_path, clock)


async def test_a_cr_lf_display_name_is_kept_and_the_mail_after_it_stored(box: Box) -> None:
    end = box.append([header_injection_mail(), *(good_mail(i) for i in range(6))])
    channel = await box.poll(end)
    stored = box.messages()
    assert sorted(stored) == sorted([*GOOD, "racun-1@example.com"])
    poison = stored["racun-1@example.com"]
    assert poison.sender_id == "racun@example.com"
    assert poison.text == "Lampu di depan rumah saya mati."
    assert poison.parse_error.startswith("header From: ValueError: invalid arguments; address")
    assert channel.polling.failing is False


class RefusingSink:
    """The real intake, except that it fails (as a bug would) on the items `refuse` picks."""

    def __init__(self, intake: Intake, refuse: Callable[[Inbound], bool]) -> None:
        self.intake, self.refuse = intake, refuse
        self.calls = 0

    async def submit(self, items: Sequence[Inbound], cursor: Cursor | None = None) -> IntakeResult:
        self.calls += 1
        if any(self.refuse(item) for item in items):
            raise ValueError("value too long for type character varying(320)")
        return await self.intake.submit(items, cursor)

    async def read_cursor(self, channel: str, account: str, name: str) -> str | None:
        return await self.intake.read_cursor(channel, account, name)

    async def record_media(self, result: MediaResult) -> None:
        await self.intake.record_media(result)


async def test_a_mail_that_cannot_be_stored_is_kept_as_unreadable_and_the_rest_stored(
    box: Box, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="kanal.channels.email")
    end = box.append([good_mail(0), good_mail(1), good_mail(99), *(good_mail(i) for i in (2, 3))])
    validity, uids, _ = folder_state(box.dovecot, box.name)
    sink = RefusingSink(box.intake, lambda item: item.external_id == "good-99@mail.id")
    await box.poll(end, box.config(batch_size=50), sink)

    stored = box.messages()
    poison_id = f"imap:{validity}:{uids[2]}:{box.name}"
    assert sorted(stored) == sorted([*GOOD[:4], poison_id])
    assert stored[poison_id].parse_error == (
        "could not be stored: ValueError: value too long for type character varying(320)"
    )
    with box.db.read() as session:
        raw = session.exec(select(RawEvent).where(RawEvent.external_id == poison_id)).one()
    assert raw.payload == {"folder": box.name, "uidvalidity": validity, "uid": uids[2]}
    # One failed batch, then each mail alone: the poison twice, then as unreadable.
    assert sink.calls == 1 + 5 + 2


async def test_a_mail_that_cannot_be_stored_even_as_unreadable_is_skipped_by_uid(
    box: Box, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="kanal.channels.email")
    end = box.append([good_mail(0), good_mail(99), good_mail(1)])
    validity, uids, _ = folder_state(box.dovecot, box.name)

    def refuse(item: Inbound) -> bool:  # the mail and its unreadable record alike
        return item.external_id in ("good-99@mail.id", f"imap:{validity}:{uids[1]}:{box.name}")

    await box.poll(end, sink=RefusingSink(box.intake, refuse))
    assert sorted(box.messages()) == GOOD[:2]
    [skipped] = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert skipped == (
        f"email uid {uids[1]} of aduan@kanal.test/{box.name} could not be stored, not even as "
        "unreadable, after 5 attempts (could not be stored: ValueError: value too long for type "
        "character varying(320)): skipped; it stays in the mailbox"
    )


async def test_a_mail_over_the_size_limit_is_fetched_as_headers_and_kept_with_the_reason(
    box: Box,
) -> None:
    big = large_attachment_mail(300 * 1024)
    end = box.append([good_mail(0), big, good_mail(1)])
    await box.poll(end, box.config(max_message_size=200 * 1024))

    stored = box.messages()
    assert sorted(stored) == sorted([*GOOD[:2], "heavy@mail.id"])
    heavy = stored["heavy@mail.id"]
    assert heavy.parse_error == (
        f"mail of {len(big):,} bytes is larger than the limit of 204,800 bytes: "
        "only its headers were read"
    )
    assert (heavy.sender_id, heavy.subject, heavy.text) == ("warga@mail.id", "Laporan", "")
    with box.db.read() as session:
        raw = session.exec(select(RawEvent).where(RawEvent.external_id == "heavy@mail.id")).one()
    # Only the header block crossed the network and was kept; the mail stays on the server.
    kept = (box.tmp_path / raw.payload["eml_path"]).read_bytes()
    assert kept == big.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
    assert raw.payload["size"] == len(big)


def break_on_disk(dovecot: Dovecot, mailbox: str, message_id: bytes) -> None:
    """Truncate a stored mail's file: Dovecot then drops the connection on every FETCH of it."""
    for path in (dovecot.directory / "mail" / "Maildir" / f".{mailbox}").glob("*/*"):
        if path.is_file() and message_id in path.read_bytes():
            path.write_bytes(path.read_bytes()[:40])
            return
    raise AssertionError(f"{message_id!r} not found in {mailbox}")


async def test_a_mail_the_server_cannot_deliver_is_kept_as_unreadable_after_max_attempts(
    box: Box, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="kanal.channels.email")
    end = box.append([good_mail(i) for i in range(4)])
    validity, uids, _ = folder_state(box.dovecot, box.name)
    break_on_disk(box.dovecot, box.name, b"<good-1@mail.id>")
    channel = await box.poll(end, box.config(batch_size=50, max_attempts=3))

    stored = box.messages()
    broken = f"imap:{validity}:{uids[1]}:{box.name}"
    assert sorted(stored) == sorted([GOOD[0], *GOOD[2:4], broken])
    assert stored[broken].parse_error == (
        "could not be fetched after 3 attempts: abort: command: FETCH => socket error: EOF"
    )
    assert "Cached message size larger than expected" in box.dovecot.log(tail=None)
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR] == [
        f"email uid {uids[1]} of aduan@kanal.test/{box.name} {stored[broken].parse_error}; "
        "it is kept as unreadable and stays in the mailbox"
    ]
    assert channel.polling.failing is False
