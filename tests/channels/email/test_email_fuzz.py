"""Fuzz: parse_mail never raises, and no mutated mail ever costs a good one its place in intake."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from mail_fuzz import mutated_mails
from mails import good_mail
from sqlmodel import select
from test_email_poll import config, cursor_value, folder_state

from channels.base import Inbound, InboundMessage, UnsupportedEvent
from channels.email.channel import EmailChannel
from channels.email.parse import ParseContext, parse_mail
from servers.dovecot import Dovecot
from store.db import Database
from store.models import Message, RawEvent
from store.text import is_storable
from support.waiting import until as wait_for
from triage.intake import Intake

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
# Column limits of the store that an email item fills.
LIMITS = {"external_id": 512, "sender_id": 320, "display_name": 320, "contact": 320}


def context(data_dir: Path) -> ParseContext:
    return ParseContext(
        account="aduan@kanal.test",
        data_dir=data_dir,
        own_addresses=frozenset({"aduan@kanal.test"}),
        own_msgid_domain="kanal.kanal.test",
        clock=lambda: NOW,
    )


def unstorable(item: Inbound) -> list[str]:
    """The fields of `item` the store would refuse."""
    problems = []
    for f in dataclasses.fields(item):
        value = getattr(item, f.name)
        if isinstance(value, str) and not is_storable(value):
            problems.append(f"{f.name} holds NUL or a lone surrogate")
        if isinstance(value, str) and len(value) > LIMITS.get(f.name, 10**9):
            problems.append(f"{f.name} is {len(value)} characters long")
    if isinstance(item, InboundMessage):
        for attachment in item.attachments:
            if not all(is_storable(v) for v in (attachment.mime_type, attachment.file_name) if v):
                problems.append("an attachment's name or type is unstorable")
    return problems


def test_parse_mail_never_raises_and_keeps_every_mail(tmp_path: Path) -> None:
    ctx = context(tmp_path)
    failures, slowest, kinds = [], 0.0, {"message": 0, "with_error": 0, "skipped": 0}
    for name, raw in mutated_mails(seed=15, count=2000):
        started = time.process_time()
        try:
            items = parse_mail(raw, ctx, extra={"uid": 1})
        except Exception as exc:
            failures.append(f"{name}: raised {type(exc).__name__}: {exc}")
            continue
        slowest = max(slowest, time.process_time() - started)
        first = items[0]
        problems = [p for item in items for p in unstorable(item)]
        if isinstance(first, UnsupportedEvent):
            kinds["skipped"] += 1
        elif isinstance(first, InboundMessage):
            kinds["with_error" if first.parse_error else "message"] += 1
            eml = first.raw.get("eml_path")
            if eml is None or (tmp_path / eml).read_bytes() != raw:
                problems.append("the mail as received is not kept")
        else:
            problems.append(f"first item is a {type(first).__name__}")
        if problems:
            failures.append(f"{name}: {'; '.join(problems)}")
    assert failures == []
    assert sum(kinds.values()) == 2000
    # Every kind of outcome occurs, so the mutations reach past the headers.
    assert min(kinds.values()) >= 100, kinds
    assert slowest < 2.0


async def test_mutated_mails_among_good_ones_through_intake_lose_nothing(
    intake: Intake, db: Database, tmp_path: Path
) -> None:
    ctx = context(tmp_path)
    pairs = [
        (parse_mail(raw, ctx), parse_mail(good_mail(i), ctx))
        for i, (_, raw) in enumerate(mutated_mails(seed=16, count=300))
    ]
    # Concurrently, as the webhooks and pollers of a busy process would: one group commit.
    results = await asyncio.gather(
        *(intake.submit(items) for pair in pairs for items in pair), return_exceptions=True
    )
    assert [r for r in results if isinstance(r, BaseException)] == []
    with db.read() as session:
        messages = set(session.exec(select(Message.external_id)).all())
        raws = set(session.exec(select(RawEvent.external_id)).all())
    good = {f"good-{i}@mail.id" for i in range(300)}
    assert good - messages == set()
    # Every mutated mail is kept too (a bounce's delivery status is kept under its own key).
    assert {bad[0].external_id for bad, _ in pairs} - raws == set()


async def test_the_poller_keeps_every_good_mail_among_mutated_ones(
    dovecot: Dovecot, mailbox: str, intake: Intake, db: Database, tmp_path: Path, clock: Callable
) -> None:
    appended, refused = 0, 0
    with dovecot.client() as imap:
        for i, (_, raw) in enumerate(mutated_mails(seed=17, count=200)):
            try:
                imap.append(mailbox, raw)
                appended += 1
            except Exception:  # a mail the server refuses never reaches Kanal
                refused += 1
            imap.append(mailbox, good_mail(i))
    validity, uids, _ = folder_state(dovecot, mailbox)
    cfg = config(dovecot, mailbox).model_copy(update={"batch_size": 50})
    channel = EmailChannel(cfg, tmp_path, clock)
    await channel.start(intake)
    try:
        await wait_for(lambda: cursor_value(db, mailbox) == f"{validity}:{max(uids)}", timeout=120)
    finally:
        await channel.stop()
    with db.read() as session:
        messages = set(session.exec(select(Message.external_id)).all())
        kept = set(session.exec(select(RawEvent.external_id)).all())
    assert {f"good-{i}@mail.id" for i in range(200)} - messages == set()
    # Every mail Dovecot holds is in the store (once: mutations may share a Message-ID).
    with dovecot.client() as imap:
        imap.select_folder(mailbox, readonly=True)
        held = imap.fetch(uids, ["BODY.PEEK[]"])
    ctx = context(tmp_path / "expected")
    assert {parse_mail(held[uid][b"BODY[]"], ctx)[0].external_id for uid in uids} - kept == set()
    assert appended + refused == 200 and appended >= 150
    assert channel.polling.failing is False
