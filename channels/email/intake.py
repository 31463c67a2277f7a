"""Fetched mail into intake so that one mail can never hold back the ones after it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from channels.base import (
    Cursor,
    DeliveryStatus,
    Inbound,
    InboundMessage,
    IntakeSink,
    IntakeUnavailable,
)

log = logging.getLogger("kanal.channels.email")
CHANNEL = "email"
# A mail's own items are tried this often before only its unreadable record is: a failure of
# the whole group commit (another channel's item) must not turn a good mail into an unreadable one.
ORIGINAL_ATTEMPTS = 2


@dataclass(frozen=True, slots=True)
class MailItems:
    """What one fetched mail gives intake, and how to keep it when that cannot be stored."""

    uid: int
    items: list[Inbound]
    unreadable: Callable[[str], InboundMessage]  # the mail as unreadable, given the reason


def unreadable_mail(
    *, account: str, folder: str, uidvalidity: int, uid: int, sent_at: datetime, reason: str
) -> InboundMessage:
    """A record of a mail that could not be read or stored: where it is on the server, and why.

    It holds nothing taken from the mail, so it stores whatever made the mail fail.
    """
    return InboundMessage(
        channel=CHANNEL,
        account=account,
        external_id=f"imap:{uidvalidity}:{uid}:{folder}"[:512],
        sender_id="unknown",
        sent_at=sent_at,
        parse_error=reason[:2000],
        raw={"folder": folder, "uidvalidity": uidvalidity, "uid": uid},
    )


def _key(item: Inbound) -> str:
    if isinstance(item, DeliveryStatus):
        return f"status:{item.platform_message_id}:{item.state.value}"
    return item.external_id


def _deduped(mails: list[MailItems]) -> list[Inbound]:
    items: dict[str, Inbound] = {}
    for mail in mails:
        for item in mail.items:
            items.setdefault(_key(item), item)  # the same mail twice in one batch
    return list(items.values())


async def store_batch(
    sink: IntakeSink,
    mails: list[MailItems],
    cursor_at: Callable[[int], Cursor],
    last_uid: int,
    attempts: int,
    where: str,
) -> None:
    """Store a batch with the cursor after `last_uid`; if that fails for any reason but an
    unreachable database, store its mails one by one, each moving the cursor past itself."""
    try:
        await sink.submit(_deduped(mails), cursor_at(last_uid))
        return
    except IntakeUnavailable:
        raise
    except Exception as exc:
        log.warning(
            "email batch of %s up to uid %s could not be stored (%s: %s): storing its mails "
            "one by one", where, last_uid, type(exc).__name__, exc,
        )
    for mail in mails:
        await _store_one(sink, mail, cursor_at(mail.uid), attempts, where)
    if not mails or mails[-1].uid != last_uid:
        await sink.submit([], cursor_at(last_uid))  # past mails expunged since the search


async def _store_one(
    sink: IntakeSink, mail: MailItems, cursor: Cursor, attempts: int, where: str
) -> None:
    reason = ""
    for attempt in range(1, max(attempts, ORIGINAL_ATTEMPTS + 1) + 1):
        items = mail.items if attempt <= ORIGINAL_ATTEMPTS else [mail.unreadable(reason)]
        try:
            await sink.submit(items, cursor)
            if attempt > ORIGINAL_ATTEMPTS:
                log.warning("email uid %s of %s kept as unreadable: %s", mail.uid, where, reason)
            return
        except IntakeUnavailable:
            raise
        except Exception as exc:
            reason = f"could not be stored: {type(exc).__name__}: {exc}"
    log.error(
        "email uid %s of %s could not be stored, not even as unreadable, after %d attempts "
        "(%s): skipped; it stays in the mailbox",
        mail.uid, where, attempt, reason,
    )
    await sink.submit([], cursor)
