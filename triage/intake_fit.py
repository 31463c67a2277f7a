"""Items made to fit the database before intake writes them: storable text, ids within their
columns, integers within range; what cannot be made to fit is kept as an unreadable raw event."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Sequence
from typing import Any, TypeVar

from channels.base import (
    Attachment,
    DeliveryStatus,
    Inbound,
    InboundMessage,
    Location,
    MessageUpdate,
    UnsupportedEvent,
)
from store.models import Attachment as StoredAttachment
from store.models import DeliveryReceipt, Message, RawEvent, Reporter
from store.text import storable_text


def _width(column: Any) -> int:
    return int(column.type.length)


# Column widths, read from the tables so they cannot drift; an id longer than its column would
# be cut by PostgreSQL's array cast and then no longer match its row.
CHANNEL_LENGTH = _width(RawEvent.__table__.c.channel)
ACCOUNT_LENGTH = _width(RawEvent.__table__.c.account)
EXTERNAL_ID_LENGTH = _width(RawEvent.__table__.c.external_id)
SENDER_LENGTH = _width(Reporter.__table__.c.sender_id)
NAME_LENGTH = _width(Reporter.__table__.c.display_name)
MIME_LENGTH = _width(StoredAttachment.__table__.c.mime_type)
REACTION_LENGTH = _width(Message.__table__.c.reaction)
ERROR_CODE_LENGTH = _width(DeliveryReceipt.__table__.c.error_code)
SHA256_LENGTH = _width(StoredAttachment.__table__.c.sha256)
MAX_INTEGER = 2**31 - 1  # attachments.size is an INTEGER on PostgreSQL
UNSTORABLE_KIND = "unstorable"
T = TypeVar("T")


class Unfit(ValueError):
    """An item field that cannot be stored as it is; the item is kept as unreadable."""


def fit_items(items: Sequence[Inbound]) -> list[Inbound]:
    """Every item made storable, or replaced by an unreadable record saying why it was not."""
    fitted: list[Inbound] = []
    for item in items:
        try:
            fitted.append(_fit(item))
        except Unfit as exc:
            fitted.append(unstorable(item, str(exc)))
        except (TypeError, ValueError, AttributeError) as exc:  # a channel's bug: kept all the same
            fitted.append(unstorable(item, repr(exc)))
    return fitted


def unstorable(item: Inbound, reason: str) -> UnsupportedEvent:
    """`item` as a raw event that always fits: its payload escaped, its id hashed, the reason."""
    channel = _cut(_as_text(getattr(item, "channel", "")), CHANNEL_LENGTH)
    account = _cut(_as_text(getattr(item, "account", "")), ACCOUNT_LENGTH)
    original = _as_text(
        getattr(item, "external_id", None) or getattr(item, "platform_message_id", "")
    )
    payload = _escaped(getattr(item, "raw", None))
    digest = hashlib.sha256(f"{original}\n{payload}".encode()).hexdigest()
    return UnsupportedEvent(
        channel=channel,
        account=account,
        external_id=f"{UNSTORABLE_KIND}:{digest}",
        kind=UNSTORABLE_KIND,
        reason=storable_text(f"{reason} (id {original[:200]!r})")[:4000],
        # Escaped JSON text: lone surrogates, NUL and huge numbers are kept exactly as sent.
        raw={"escaped_payload": payload},
    )


def _escaped(raw: Any) -> str:
    """The payload as ASCII JSON text, sorted (stable for the id) when its keys allow."""
    for sort_keys in (True, False):
        try:
            return json.dumps(raw, ensure_ascii=True, default=str, sort_keys=sort_keys)
        except (TypeError, ValueError, RecursionError):
            continue
    return json.dumps(repr(raw)[:1_000_000])


def _fit(item: Inbound) -> Inbound:
    if isinstance(item, InboundMessage):
        return _fit_message(item)
    if isinstance(item, MessageUpdate):
        return _fit_update(item)
    if isinstance(item, DeliveryStatus):
        return _fit_status(item)
    if isinstance(item, UnsupportedEvent):
        return _fit_unsupported(item)
    raise Unfit(f"not an intake item: {type(item).__name__}")


def _fit_message(m: InboundMessage) -> InboundMessage:
    notes: list[str] = []
    contact = _opt_text(m.contact, "contact")
    if contact is not None and len(contact) > NAME_LENGTH:
        notes.append(f"contact longer than {NAME_LENGTH} characters left out")
        contact = None
    parse_error = _opt_text(m.parse_error, "parse_error")
    if notes:
        parse_error = "; ".join([parse_error, *notes] if parse_error else notes)
    return _changed(
        m,
        account=_ident(m.account, "account", ACCOUNT_LENGTH),
        external_id=_ident(m.external_id, "external_id", EXTERNAL_ID_LENGTH),
        sender_id=_ident(m.sender_id, "sender_id", SENDER_LENGTH),
        text=_text(m.text, "text"),
        display_name=_clip(_opt_text(m.display_name, "display_name"), NAME_LENGTH),
        contact=contact,
        attachments=tuple(_fit_attachment(a) for a in m.attachments),
        location=_fit_location(m.location),
        reply_to=_opt_ident(m.reply_to, "reply_to", EXTERNAL_ID_LENGTH),
        references=tuple(_text(r, "references") for r in m.references),
        subject=_opt_text(m.subject, "subject"),
        parse_error=parse_error,
        notice_args={
            _text(key, "notice_args"): _cut(_text(value, "notice_args"), NAME_LENGTH)
            for key, value in m.notice_args.items()
        },
    )


def _fit_attachment(a: Attachment) -> Attachment:
    size = a.size
    if size is not None and (
        not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= MAX_INTEGER
    ):
        raise Unfit(f"attachment size {size!r} is not a size in bytes")
    return _changed(
        a,
        mime_type=_clip(_opt_text(a.mime_type, "mime_type"), MIME_LENGTH),
        media_ref=_opt_text(a.media_ref, "media_ref"),
        file_name=_opt_text(a.file_name, "file_name"),
        sha256=_opt_ident(a.sha256, "sha256", SHA256_LENGTH),
        caption=_opt_text(a.caption, "caption"),
        stored_path=_opt_text(a.stored_path, "stored_path"),
    )


def _fit_location(place: Location | None) -> Location | None:
    if place is None:
        return None
    bounds = (("latitude", place.latitude, 90), ("longitude", place.longitude, 180))
    for name, value, bound in bounds:
        if not isinstance(value, int | float) or not math.isfinite(value) or abs(value) > bound:
            raise Unfit(f"{name} {value!r} is not a coordinate")
    return _changed(
        place,
        name=_opt_text(place.name, "location name"),
        address=_opt_text(place.address, "location address"),
    )


def _fit_update(u: MessageUpdate) -> MessageUpdate:
    text = _text(u.text, "text")
    if u.kind.value == "reaction" and len(text) > REACTION_LENGTH:
        raise Unfit(f"reaction longer than {REACTION_LENGTH} characters")
    return _changed(
        u,
        account=_ident(u.account, "account", ACCOUNT_LENGTH),
        external_id=_ident(u.external_id, "external_id", EXTERNAL_ID_LENGTH),
        target_external_id=_ident(u.target_external_id, "target id", EXTERNAL_ID_LENGTH),
        sender_id=_text(u.sender_id, "sender_id"),
        text=text,
    )


def _fit_status(s: DeliveryStatus) -> DeliveryStatus:
    # Its stored key is "status:<id>:<state>", which must fit too.
    platform_id = _ident(s.platform_message_id, "message id", EXTERNAL_ID_LENGTH - 20)
    return _changed(
        s,
        account=_ident(s.account, "account", ACCOUNT_LENGTH),
        platform_message_id=platform_id,
        error_code=_clip(_opt_text(s.error_code, "error code"), ERROR_CODE_LENGTH),
        error_message=_opt_text(s.error_message, "error message"),
    )


def _fit_unsupported(e: UnsupportedEvent) -> UnsupportedEvent:
    external_id = _text(e.external_id, "external_id")
    if len(external_id) > EXTERNAL_ID_LENGTH:
        external_id = "sha256:" + hashlib.sha256(external_id.encode()).hexdigest()
    return _changed(
        e,
        account=_ident(e.account, "account", ACCOUNT_LENGTH),
        external_id=external_id,
        kind=_text(e.kind, "kind"),
        reason=_text(e.reason, "reason"),
    )


def _changed(item: T, **values: Any) -> T:
    """`item` itself when nothing needed changing (almost always): copying costs more."""
    if all(getattr(item, name) == value for name, value in values.items()):
        return item
    return dataclasses.replace(item, **values)  # type: ignore[type-var]


# --- single fields ----------------------------------------------------------------------------


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise Unfit(f"{name} is {type(value).__name__}, not text")
    return storable_text(value)


def _opt_text(value: Any, name: str) -> str | None:
    return None if value is None else _text(value, name)


def _ident(value: Any, name: str, limit: int) -> str:
    ident = _text(value, name)
    if len(ident) > limit:
        raise Unfit(f"{name} is {len(ident)} characters long, more than {limit}")
    return ident


def _opt_ident(value: Any, name: str, limit: int) -> str | None:
    return None if value is None else _ident(value, name, limit)


def _clip(value: str | None, limit: int) -> str | None:
    return None if value is None else _cut(value, limit)


def _cut(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _as_text(value: Any) -> str:
    return storable_text(value if isinstance(value, str) else str(value or ""))
