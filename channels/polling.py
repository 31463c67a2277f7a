"""What every poller shares: batches stored so that one unstorable item never holds back others."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from channels.base import (
    Cursor,
    DeliveryStatus,
    Inbound,
    IntakeResult,
    IntakeSink,
    IntakeUnavailable,
    UnsupportedEvent,
)

log = logging.getLogger(__name__)

UNSTORABLE_KIND = "unstorable"
# Attempts (one per poll) after which an item that cannot be stored even as unreadable is
# logged and skipped: the platform keeps it only for a while, the items behind it wait.
SKIP_AFTER = 3
_MAX_ID = 200
_MAX_REASON = 1000


class ItemsPending(IntakeUnavailable):
    """Some items of a batch could not be stored yet: the cursor stays, the poll is retried."""


class _Refused(Exception):
    """The intake refused one item on its own: about its content, not an outage."""

    def __init__(self, cause: Exception) -> None:
        super().__init__(str(cause))
        self.cause = cause


@dataclass(frozen=True, slots=True)
class Stored:
    result: IntakeResult
    items: list[Inbound]  # the items stored as themselves (not as unreadable): fetch their media


@dataclass
class PollWriter:
    """Submits a poller's batches for one channel account.

    A batch refused for any reason but an unreachable database is stored item by item; an item
    refused on its own is kept as an `UnsupportedEvent` with the reason and its payload as
    escaped JSON, or, if even that is refused `SKIP_AFTER` times, logged and skipped. The cursor
    is committed only once every item is stored or skipped, so it always moves past a bad one.
    """

    channel: str
    account: str
    skip_after: int = SKIP_AFTER
    _strikes: dict[str, int] = field(default_factory=dict, repr=False)

    async def submit(
        self, sink: IntakeSink, items: Sequence[Inbound], cursor: Cursor
    ) -> Stored:
        try:
            return Stored(await sink.submit(items, cursor), list(items))
        except IntakeUnavailable as exc:
            if not await self._database_writes(sink, cursor):
                raise
            failure: Exception = exc
        except Exception as exc:  # the intake may choke on any content; handled item by item
            failure = exc
        log.warning(
            "%s %s: a batch of %d could not be stored (%s); storing item by item",
            self.channel, self.account, len(items), _reason(failure),
        )
        return await self._one_by_one(sink, items, cursor)

    async def _one_by_one(
        self, sink: IntakeSink, items: Sequence[Inbound], cursor: Cursor
    ) -> Stored:
        stored = duplicates = 0
        kept: list[Inbound] = []
        pending: list[str] = []
        for item in items:
            try:
                result = await self._alone(sink, item, cursor)
            except _Refused as refused:  # this item's content: kept as unreadable
                self._strike(item)
                result = await self._unstorable(sink, item, refused.cause)
            else:
                kept.append(item)
                self._strikes.pop(_item_id(item), None)
            if result is None:
                pending.append(_printable(_item_id(item)))
            else:
                stored, duplicates = stored + result.stored, duplicates + result.duplicates
        if pending:
            raise ItemsPending(f"not stored yet, retried on the next poll: {', '.join(pending)}")
        await sink.submit([], cursor)
        return Stored(IntakeResult(stored, duplicates), kept)

    async def _alone(self, sink: IntakeSink, item: Inbound, cursor: Cursor) -> IntakeResult:
        """`item` stored on its own. IntakeUnavailable means an outage (the poll is retried,
        nothing given up); _Refused means the intake will not take this item."""
        try:
            return await sink.submit([item], None)
        except IntakeUnavailable:
            if not await self._database_writes(sink, cursor):
                raise
        except Exception as exc:
            raise _Refused(exc) from exc
        # "Unavailable" for this item while the database took a write just now: a driver error
        # on its content, or a blip. One more try tells which.
        try:
            return await sink.submit([item], None)
        except Exception as exc:
            raise _Refused(exc) from exc

    def _strike(self, item: Inbound) -> int:
        item_id = _item_id(item)
        self._strikes[item_id] = self._strikes.get(item_id, 0) + 1
        return self._strikes[item_id]

    async def _unstorable(
        self, sink: IntakeSink, item: Inbound, exc: Exception
    ) -> IntakeResult | None:
        """Keep `item` as unreadable; None while it is to be tried again on the next poll."""
        item_id = _item_id(item)
        reason = f"not storable: {_reason(exc)}"
        try:
            # IntakeUnavailable here goes up: a database refusing even this plain record is
            # waited for, and nothing is skipped for it.
            result = await sink.submit([self.unreadable(item, reason)], None)
        except IntakeUnavailable:
            raise
        except Exception as again:  # counted: skipped after `skip_after` attempts
            log.warning("%s %s: item %s not kept as unreadable either: %s",
                        self.channel, self.account, _printable(item_id), _reason(again))
        else:
            log.warning("%s %s: item %s kept as unreadable: %s",
                        self.channel, self.account, _printable(item_id), reason)
            self._strikes.pop(item_id, None)
            return result
        strikes = self._strikes.get(item_id, 0)
        if strikes >= self.skip_after:
            log.error("%s %s: item %s skipped after %d attempts, not stored: %s",
                      self.channel, self.account, _printable(item_id), strikes, reason)
            self._strikes.pop(item_id, None)
            return IntakeResult(stored=0, duplicates=0)
        return None

    def unreadable(self, item: Inbound, reason: str) -> UnsupportedEvent:
        """`item` as a record any database can hold: a plain id, the payload as escaped JSON."""
        item_id = _item_id(item)
        safe_id = _printable(item_id)
        if safe_id != item_id or len(item_id) > _MAX_ID:
            safe_id = "unstorable:" + hashlib.sha256(safe_id.encode()).hexdigest()
        payload = json.dumps(getattr(item, "raw", {}), ensure_ascii=True, default=repr)
        return UnsupportedEvent(
            channel=self.channel,
            account=self.account,
            external_id=safe_id,
            kind=UNSTORABLE_KIND,
            reason=reason,
            raw={"external_id": _printable(item_id), "payload": payload},
        )

    async def _database_writes(self, sink: IntakeSink, cursor: Cursor) -> bool:
        """Whether the database takes a write (the cursor rewritten as it stands; "" reads as no
        cursor): then a refused item was refused for its content, not for an outage."""
        try:
            stored = await sink.read_cursor(cursor.channel, cursor.account, cursor.name)
            await sink.submit([], replace(cursor, value=stored or ""))
        except Exception:  # unreachable or refusing writes, whatever the driver calls it
            return False
        return True


def _item_id(item: Inbound) -> str:
    if isinstance(item, DeliveryStatus):
        return f"status:{item.platform_message_id}:{item.state.value}"
    return str(item.external_id)


def _printable(text: str) -> str:
    """`text` storable anywhere: lone surrogates and NUL written as escapes."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")


def _reason(exc: BaseException) -> str:
    return _printable(f"{type(exc).__name__}: {exc}")[:_MAX_REASON]
