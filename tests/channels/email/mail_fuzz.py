"""Seeded mutations of real mails, and generated hostile ones, for the email fuzz tests."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from pathlib import Path

from mails import deep_mail, header_injection_mail, wide_mail

FIXTURES = sorted((Path(__file__).parent / "fixtures").glob("*.eml"))

# Header values a careless or hostile sender writes.
_HOSTILE_VALUES = [
    b"=?utf-8?q?Nama=0D=0ABcc:_x@evil.example?= <racun@example.com>",
    b"=?utf-8?b?7aCA?= <surrogate@example.com>",  # UTF-8 of a lone surrogate
    b"=?x-unknown?q?abc?= <charset@example.com>",
    b"=?utf-8?q?=00=00nul?= <nul@example.com>",
    b"\x00\xff\xfe <bytes@example.com>",
    b'"unterminated <quote@example.com>',
    b"a@b@c, <<<>>>, ;;;, :::",
    b"=?utf-8?b?!!!notbase64?= <b64@example.com>",
    b"x" * 5000 + b" <long@example.com>",
    b"",
]
_HEADERS = [
    b"From",
    b"Sender",
    b"Reply-To",
    b"Return-Path",
    b"Subject",
    b"Message-ID",
    b"In-Reply-To",
    b"References",
    b"Date",
    b"Content-Type",
    b"Content-Transfer-Encoding",
    b"Auto-Submitted",
    b"Content-Disposition",
    b"Content-ID",
    b"Precedence",
]
_CONTENT_TYPES = [
    b"multipart/mixed",
    b"multipart/mixed; boundary=",
    b"multipart/report; report-type*=''%ff",
    b'text/plain; charset="x-bogus"',
    b"text/plain; charset=utf-7",
    b"text/html; charset=utf-16",
    b"message/rfc822",
    b"message/delivery-status",
    b"application/octet-stream; name*=utf-8''%ff%fe",
    b"image/\xff\x00",
    b'multipart/alternative; boundary=""',
    b'text/plain; charset="\xff"',
    b"multipart/report; report-type=\xff\xfe; boundary=x",
]


def _flip(rng: random.Random, raw: bytes) -> bytes:
    data = bytearray(raw)
    for _ in range(rng.randint(1, 20)):
        data[rng.randrange(len(data))] = rng.randrange(256)
    return bytes(data)


def _truncate(rng: random.Random, raw: bytes) -> bytes:
    return raw[: rng.randrange(len(raw))]


def _insert(rng: random.Random, raw: bytes) -> bytes:
    at = rng.randrange(len(raw) + 1)
    junk = rng.choice(
        [
            b"\x00",
            b"\r",
            b"\n\n",
            b"\r\n\r\n",
            b"--",
            b"=?",
            b"\xed\xa0\x80",
            bytes(rng.randrange(256) for _ in range(rng.randint(1, 64))),
        ]
    )
    return raw[:at] + junk + raw[at:]


def _header(rng: random.Random, raw: bytes) -> bytes:
    name = rng.choice(_HEADERS)
    if name == b"Content-Type":
        value = rng.choice(_CONTENT_TYPES)
    elif name == b"Date":
        value = rng.choice([b"Mon, 99 Foo 99999 99:99:99 +9999", b"0", b"\xff", b"Tue, 1 Jan 0001"])
    else:
        value = rng.choice(_HOSTILE_VALUES)
    return name + b": " + value + b"\r\n" + raw


def _duplicate(rng: random.Random, raw: bytes) -> bytes:
    start = rng.randrange(len(raw))
    chunk = raw[start : start + rng.randint(1, 400)]
    return raw + chunk * rng.randint(1, 30)


def _nest(rng: random.Random, raw: bytes) -> bytes:
    head, _, body = raw.partition(b"\r\n\r\n")
    depth = rng.choice([2, 19, 21, 60])
    opening = b"".join(
        b'Content-Type: multipart/mixed; boundary="n%d"\r\n\r\n--n%d\r\n' % (i, i)
        for i in range(depth)
    )
    return head + b"\r\n" + opening + b"Content-Type: text/plain\r\n\r\n" + body


def _line_endings(rng: random.Random, raw: bytes) -> bytes:
    return raw.replace(b"\r\n", rng.choice([b"\n", b"\r", b"\n\r", b"\r\r\n"]))


MUTATIONS: list[Callable[[random.Random, bytes], bytes]] = [
    _flip,
    _truncate,
    _insert,
    _header,
    _duplicate,
    _nest,
    _line_endings,
]


def generated(rng: random.Random) -> bytes:
    """A hostile mail made from nothing: injection, nesting, width, odd encodings."""
    kind = rng.randrange(5)
    if kind == 0:
        return header_injection_mail()
    if kind == 1:
        return deep_mail(rng.choice([1, 20, 21, 300]))
    if kind == 2:
        return wide_mail(rng.choice([0, 5, 200, 201, 1000]))
    if kind == 3:
        return b"\x00" * rng.randint(0, 100) + bytes(rng.randrange(256) for _ in range(200))
    return (
        b"From: w@mail.id\r\nContent-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + rng.choice([b"7aCA\r\n", b"@@@", b"AA="])
    )


def mutated_mails(seed: int, count: int) -> Iterator[tuple[str, bytes]]:
    """`count` mails, each named by how it was made, the same for the same seed."""
    rng = random.Random(seed)
    sources = [p.read_bytes() for p in FIXTURES]
    for index in range(count):
        if index % 10 == 9:
            yield f"{index}:generated", generated(rng)
            continue
        raw = rng.choice(sources) or b"x"
        names = []
        for _ in range(rng.randint(1, 3)):
            mutation = rng.choice(MUTATIONS)
            names.append(mutation.__name__.strip("_"))
            raw = mutation(rng, raw) or b"\r\n"
        yield f"{index}:{'+'.join(names)}", raw
