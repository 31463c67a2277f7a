"""Mails built for tests and the bench: a good report, the poison ones and the costly ones."""

from __future__ import annotations

import base64
import random

HEAD = (
    b"From: Warga <warga@mail.id>\r\nTo: aduan@kanal.test\r\nSubject: Laporan\r\n"
    b"Date: Mon, 23 Nov 2026 09:00:00 +0700\r\nMessage-ID: <heavy@mail.id>\r\nMIME-Version: 1.0\r\n"
)


def good_mail(index: int, sender: str = "warga") -> bytes:
    """A plain report with its own Message-ID and sender."""
    return (
        f"From: Warga {index} <{sender}{index}@mail.id>\r\nTo: aduan@kanal.test\r\n"
        f"Subject: Laporan {index}\r\nDate: Mon, 23 Nov 2026 09:00:00 +0700\r\n"
        f"Message-ID: <good-{index}@mail.id>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        f"Jalan berlubang nomor {index} di Desa Kayen.\r\n"
    ).encode()


def header_injection_mail() -> bytes:
    """Issue 15 item 1: a From display name that decodes to CR/LF."""
    return (
        b"From: =?utf-8?q?Nama=0D=0ABcc:_x@evil.example?= <racun@example.com>\r\n"
        b"To: aduan@kanal.test\r\nSubject: Lampu jalan mati\r\n"
        b"Date: Mon, 23 Nov 2026 08:00:00 +0700\r\nMessage-ID: <racun-1@example.com>\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\nLampu di depan rumah saya mati.\r\n"
    )


def deep_mail(depth: int) -> bytes:
    """A text part inside `depth` nested multiparts."""
    out = [HEAD]
    for i in range(depth):
        out.append(b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i))
    out.append(b"Content-Type: text/plain\r\n\r\nhalo\r\n")
    out.extend(b"--b%d--\r\n" % i for i in reversed(range(depth)))
    return b"".join(out)


def wide_mail(parts: int) -> bytes:
    """One multipart/mixed with `parts` small text parts."""
    out = [HEAD, b'Content-Type: multipart/mixed; boundary="w"\r\n\r\n']
    out.extend(b"--w\r\nContent-Type: text/plain\r\n\r\nbagian %d\r\n" % i for i in range(parts))
    out.append(b"--w--\r\n")
    return b"".join(out)


def many_headers_mail(fields: int) -> bytes:
    """A short report under `fields` extra header fields, each an encoded word to decode."""
    extra = b"".join(b"X-Kolom-%d: =?utf-8?q?nilai_%d?=\r\n" % (i, i) for i in range(fields))
    return HEAD + extra + b"Content-Type: text/plain\r\n\r\nisi\r\n"


def large_attachment_mail(size: int, seed: int = 15) -> bytes:
    """A short text and a JPEG-labelled attachment of `size` random bytes, base64 encoded."""
    data = random.Random(seed).randbytes(size)
    encoded = base64.encodebytes(data).replace(b"\n", b"\r\n")
    return b"".join(
        [
            HEAD,
            b'Content-Type: multipart/mixed; boundary="g"\r\n\r\n--g\r\n',
            b"Content-Type: text/plain\r\n\r\nfoto\r\n--g\r\n",
            b'Content-Type: image/jpeg; name="a.jpg"\r\nContent-Transfer-Encoding: base64\r\n\r\n',
            encoded,
            b"--g--\r\n",
        ]
    )
