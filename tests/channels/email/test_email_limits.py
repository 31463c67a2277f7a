"""Mails that once broke or stalled the parser: kept quickly, with the reason, never raised."""

from __future__ import annotations

import base64
import hashlib
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from mails import (
    deep_mail,
    header_injection_mail,
    large_attachment_mail,
    many_headers_mail,
    wide_mail,
)

from channels.base import InboundMessage
from channels.email.budget import MailLimits
from channels.email.parse import ParseContext, parse_mail

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def context(data_dir: Path, limits: MailLimits | None = None) -> ParseContext:
    return ParseContext(
        account="aduan@kanal.test",
        data_dir=data_dir,
        own_addresses=frozenset({"aduan@kanal.test"}),
        own_msgid_domain="kanal.kanal.test",
        clock=lambda: NOW,
        limits=limits or MailLimits(),
    )


def test_a_display_name_decoding_to_cr_lf_is_read_from_the_raw_header(tmp_path: Path) -> None:
    [item] = parse_mail(header_injection_mail(), context(tmp_path))
    assert isinstance(item, InboundMessage)
    # The address is the one between <>, never the one injected into the display name.
    assert (item.sender_id, item.contact) == ("racun@example.com", "racun@example.com")
    assert item.display_name == "Nama Bcc: x@evil.example"
    assert item.subject == "Lampu jalan mati"
    assert item.text == "Lampu di depan rumah saya mati."
    assert item.parse_error == (
        "header From: ValueError: invalid arguments; address parts cannot contain CR or LF; "
        "read from the raw text"
    )


def test_an_auto_reply_with_the_same_from_is_still_recognised(tmp_path: Path) -> None:
    raw = header_injection_mail().replace(b"Subject:", b"Auto-Submitted: auto-replied\r\nSubject:")
    [item] = parse_mail(raw, context(tmp_path))
    assert (item.kind, item.reason) == ("auto_reply", "Auto-Submitted: auto-replied")


def read_timed(raw: bytes, ctx: ParseContext) -> tuple[InboundMessage, float]:
    started = time.process_time()
    [item] = parse_mail(raw, ctx)
    assert isinstance(item, InboundMessage)
    return item, time.process_time() - started


@pytest.mark.parametrize(
    ("mail", "reason"),
    [
        (lambda: deep_mail(3000), "MIME nesting deeper than 20 levels"),
        (lambda: wide_mail(20000), "more than 200 MIME parts"),
        (
            lambda: large_attachment_mail(30 * 1024 * 1024),
            "mail of 43,047,137 bytes is larger than the limit of 26,214,400 bytes",
        ),
        (lambda: many_headers_mail(300_000), "more than 2000 header fields"),
    ],
    ids=["3000-deep", "20000-parts", "30MB-attachment", "300000-headers"],
)
def test_a_mail_over_the_budget_is_kept_quickly_as_headers_with_the_reason(
    tmp_path: Path, mail, reason: str
) -> None:
    raw = mail()
    item, cpu = read_timed(raw, context(tmp_path))
    # Before the budget these took 17 s, 27 s and 314 MB; the headers take milliseconds.
    assert cpu < 1.0
    assert item.parse_error == f"{reason}: only its headers were read"
    assert (item.sender_id, item.subject, item.text) == ("warga@mail.id", "Laporan", "")
    assert item.attachments == ()
    # Nothing is lost: the whole mail is kept on disk, as received.
    assert (tmp_path / item.raw["eml_path"]).read_bytes() == raw
    assert item.external_id == "heavy@mail.id"


def test_the_limits_are_configurable_and_a_mail_within_them_is_read_whole(tmp_path: Path) -> None:
    raw = wide_mail(150)
    [item] = parse_mail(raw, context(tmp_path))
    assert item.parse_error is None and item.text.startswith("bagian 0")
    limits = MailLimits(max_parts=100, max_depth=5, max_bytes=10 * 1024 * 1024)
    [limited] = parse_mail(raw, context(tmp_path, limits))
    assert limited.parse_error == "more than 100 MIME parts: only its headers were read"
    [shallow] = parse_mail(deep_mail(6), context(tmp_path, limits))
    assert shallow.parse_error == "MIME nesting deeper than 5 levels: only its headers were read"
    [within] = parse_mail(deep_mail(5), context(tmp_path, limits))
    assert (within.parse_error, within.text) == (None, "halo")


def test_an_attachment_within_the_size_limit_is_stored(tmp_path: Path) -> None:
    raw = large_attachment_mail(1024 * 1024)
    [item] = parse_mail(raw, context(tmp_path))
    assert item.parse_error is None
    [photo] = item.attachments
    content = base64.b64decode(raw.split(b"base64\r\n\r\n", 1)[1].split(b"--g--")[0])
    assert (photo.size, photo.sha256) == (len(content), hashlib.sha256(content).hexdigest())


def test_headers_only_reason_from_the_poller_is_kept(tmp_path: Path) -> None:
    head = large_attachment_mail(10).split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
    reason = "mail of 31,457,280 bytes is larger than the limit of 26,214,400 bytes"
    [item] = parse_mail(head, context(tmp_path), headers_only=reason)
    assert item.parse_error == f"{reason}: only its headers were read"
    assert (item.sender_id, item.external_id) == ("warga@mail.id", "heavy@mail.id")
