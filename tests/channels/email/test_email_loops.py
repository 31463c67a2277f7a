"""Loop protection and text clean-up, header by header, on small hand-made mails."""

from __future__ import annotations

from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import pytest

from channels.email.loops import LoopVerdict, detect_loop
from channels.email.text import decode_bytes, html_to_text, trim_reply

BASE = (
    "From: Warga <warga@mail.id>\r\nTo: aduan@kanal.test\r\nSubject: Laporan\r\n"
    "Message-ID: <m1@mail.id>\r\n"
)


def mail(extra_headers: str = "", base: str = BASE, body: str = "Isi laporan.\r\n") -> EmailMessage:
    raw = (base + extra_headers + "\r\n" + body).encode()
    return BytesParser(policy=policy.default).parsebytes(raw)


def verdict(msg: EmailMessage) -> LoopVerdict | None:
    return detect_loop(
        msg, own_addresses=frozenset({"aduan@kanal.test"}), own_msgid_domain="kanal.kanal.test"
    )


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ("", None),
        ("Auto-Submitted: no\r\n", None),
        ("Auto-Submitted: auto-generated\r\n", ("auto_reply", "Auto-Submitted: auto-generated")),
        ("Auto-Submitted: auto-notified\r\n", ("auto_reply", "Auto-Submitted: auto-notified")),
        ("Precedence: junk\r\n", ("auto_reply", "Precedence: junk")),
        ("Precedence: list\r\n", ("auto_reply", "Precedence: list")),
        ("Precedence: first-class\r\n", None),
        ("X-Autorespond: yes\r\n", ("auto_reply", "X-Autorespond header present")),
        ("List-Id: <warga.lists.mail.id>\r\n", ("auto_reply", "mailing list (List-Id)")),
        ("Return-Path: <>\r\n", ("bounce", "empty Return-Path (<>)")),
        ("Return-Path: <warga@mail.id>\r\n", None),
    ],
)
def test_headers_that_mark_automatic_mail(headers: str, expected: tuple | None) -> None:
    result = verdict(mail(headers))
    assert (result.kind, result.reason) == expected if expected else result is None


@pytest.mark.parametrize(
    ("sender", "expected"),
    [
        (
            "MAILER-DAEMON@mx.mail.id",
            ("bounce", "sender is mailer-daemon (mailer-daemon@mx.mail.id)"),
        ),
        (
            "noreply@bank.example",
            ("auto_reply", "sender is an automatic address (noreply@bank.example)"),
        ),
        (
            "warga-request@lists.id",
            ("auto_reply", "sender is an automatic address (warga-request@lists.id)"),
        ),
        ("Aduan@Kanal.Test", ("own_mail", "sent by our own address (aduan@kanal.test)")),
        ("norma@mail.id", None),
    ],
)
def test_senders_that_mark_automatic_mail(sender: str, expected: tuple | None) -> None:
    msg = mail(base=BASE.replace("warga@mail.id", sender))
    result = verdict(msg)
    assert (result.kind, result.reason) == expected if expected else result is None


def test_read_receipt_is_an_automatic_report() -> None:
    msg = mail(
        "MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=disposition-notification;"
        ' boundary="b"\r\n',
        body="--b\r\nContent-Type: text/plain\r\n\r\nDibaca.\r\n--b--\r\n",
    )
    result = verdict(msg)
    assert (result.kind, result.reason) == (
        "auto_reply",
        "automatic report (report-type=disposition-notification)",
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Jalan rusak.\n\nOn Mon, 23 Nov 2026 at 08.00, Kanal <aduan@kanal.test> wrote:\n> lama",
            "Jalan rusak.",
        ),
        ("Jalan rusak.\n-----Original Message-----\nFrom: x", "Jalan rusak."),
        ("Jalan rusak.\n\n----- Pesan Asli -----\nDari: x", "Jalan rusak."),
        ("Jalan rusak.\n\nDari: Kanal <aduan@kanal.test>\nTanggal: Sen\n\nlama", "Jalan rusak."),
        ("Jalan rusak.\n\nSent from my iPhone", "Jalan rusak."),
        ("Jalan rusak.\n\nDapatkan Outlook untuk Android", "Jalan rusak."),
        ("Jalan rusak.\n> kutipan\n> lagi\n", "Jalan rusak."),
        # Prose that only looks like an attribution stays.
        (
            "Pada hari Senin saya menulis: jalan rusak parah.",
            "Pada hari Senin saya menulis: jalan rusak parah.",
        ),
        # A quote in the middle, followed by new text, is kept.
        ("> kata petugas\nTapi belum diperbaiki.", "> kata petugas\nTapi belum diperbaiki."),
        # A mail that is nothing but a quote keeps its text rather than becoming empty.
        ("> hanya kutipan", "> hanya kutipan"),
    ],
)
def test_trim_reply(text: str, expected: str) -> None:
    assert trim_reply(text) == expected


@pytest.mark.parametrize(
    ("payload", "charset", "expected"),
    [
        (b"Jalan rusak", "utf-8", ("Jalan rusak", None)),
        ("Café – jalan".encode("cp1252"), "iso-8859-1", ("Café – jalan", None)),
        ("Café".encode("cp1252"), "us-ascii", ("Café", "body declared 'us-ascii' but was cp1252")),
        ("Café".encode(), "x-unknown", ("Café", "unknown charset 'x-unknown'")),
        ("Café".encode("cp1252"), None, ("Café", None)),
        ("路面".encode("gb18030"), "gb2312", ("路面", None)),
        (b"a\x00b\r\nc", "utf-8", ("ab\nc", None)),
    ],
)
def test_decode_bytes(payload: bytes, charset: str | None, expected: tuple) -> None:
    assert decode_bytes(payload, charset) == expected


def test_html_to_text_drops_markup_scripts_and_styles() -> None:
    html = (
        "<html><head><title>x</title><style>p{color:red}</style></head><body>"
        "<script>alert(1)</script><h1>Laporan</h1><p>Jalan&nbsp;rusak &amp; berlubang</p>"
        "<ol><li>satu</li><li>dua</li></ol>baris<br>baru</body></html>"
    )
    assert html_to_text(html) == "Laporan\n\nJalan rusak & berlubang\n\n- satu\n- dua\nbaris\nbaru"
