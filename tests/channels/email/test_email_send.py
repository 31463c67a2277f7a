"""Replies by SMTP against a real aiosmtpd: threading headers, both parts, error classes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from channels.base import Channel, OutboundMessage, PlatformError
from channels.email.channel import EmailChannel, EmailConfig
from channels.email.smtp import reply_subject
from servers.smtp import SmtpServer
from support.local_server import free_port

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def channel(port: int, tmp_path: Path) -> EmailChannel:
    config = EmailConfig(
        enabled=True,
        username="aduan@kanal.test",
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_tls="none",
        from_address="aduan@kanal.test",
        from_name="LaporBupPati",
        smtp_timeout="5s",
    )
    return EmailChannel(config, tmp_path, lambda: NOW)


def unfold(value: object) -> str:
    return " ".join(str(value).split())


def reply(**changes: object) -> OutboundMessage:
    fields: dict = {
        "channel": "email",
        "account": "aduan@kanal.test",
        "recipient_id": "dewi.lestari@outlook.co.id",
        "recipient_contact": "dewi.lestari@outlook.co.id",
        "text": (
            "Yth. Ibu Dewi,\n\nLaporan Anda sudah diteruskan ke Dinas PUPR.\nTerima kasih & salam."
        ),
        "idempotency_key": "outbox-42",
        "reply_to": "SEZPR06MB5421A0B1C2D3E4F5@sezpr06mb5421.apcprd06.prod.outlook.com",
        "references": ("3f1c0a9e2b7d4c5a8e6f1b2c3d4e5f60@kanal.kanal.test",),
        "subject": "Jalan berlubang di Jl. Kartini",
        "ticket_number": "LBP-2026-00042",
    }
    fields.update(changes)
    return OutboundMessage(**fields)


def test_channel_meets_the_protocol(tmp_path: Path) -> None:
    email = channel(25, tmp_path)
    assert isinstance(email, Channel)
    assert (email.name, email.account, list(email.routes())) == ("email", "aduan@kanal.test", [])


async def test_reply_is_threaded_with_ticket_number_and_both_parts(
    smtp_server: SmtpServer, tmp_path: Path
) -> None:
    result = await channel(smtp_server.port, tmp_path).send(reply())
    [captured] = smtp_server.received
    mail = captured.message
    assert captured.mail_from == "aduan@kanal.test"
    assert captured.rcpt_tos == ["dewi.lestari@outlook.co.id"]
    assert mail["Message-ID"] == f"<{result.platform_message_id}>"
    assert result.platform_message_id.endswith("@kanal.kanal.test")
    # Long ids are folded onto continuation lines, as RFC 5322 allows; compare unfolded.
    assert unfold(mail["In-Reply-To"]) == (
        "<SEZPR06MB5421A0B1C2D3E4F5@sezpr06mb5421.apcprd06.prod.outlook.com>"
    )
    assert unfold(mail["References"]) == (
        "<3f1c0a9e2b7d4c5a8e6f1b2c3d4e5f60@kanal.kanal.test> "
        "<SEZPR06MB5421A0B1C2D3E4F5@sezpr06mb5421.apcprd06.prod.outlook.com>"
    )
    assert mail["Subject"] == "Re: Jalan berlubang di Jl. Kartini [LBP-2026-00042]"
    assert mail["From"] == "LaporBupPati <aduan@kanal.test>"
    assert mail["To"] == "dewi.lestari@outlook.co.id"
    assert mail["Date"] == "Mon, 23 Nov 2026 02:00:00 +0000"
    assert mail["Auto-Submitted"] is None
    assert mail.get_content_type() == "multipart/alternative"
    plain = mail.get_body(("plain",)).get_content().replace("\r\n", "\n")
    html = mail.get_body(("html",)).get_content().replace("\r\n", "\n")
    assert plain == (
        "Yth. Ibu Dewi,\n\nLaporan Anda sudah diteruskan ke Dinas PUPR.\nTerima kasih & salam.\n"
    )
    assert "<p>Yth. Ibu Dewi,</p>" in html
    assert (
        "<p>Laporan Anda sudah diteruskan ke Dinas PUPR.<br>\nTerima kasih &amp; salam.</p>"
    ) in html


async def test_a_retry_reuses_the_message_id(smtp_server: SmtpServer, tmp_path: Path) -> None:
    email = channel(smtp_server.port, tmp_path)
    first = await email.send(reply())
    again = await email.send(reply())
    other = await email.send(reply(idempotency_key="outbox-43"))
    assert first == again != other
    ids = [c.message["Message-ID"] for c in smtp_server.received]
    assert ids == [f"<{first.platform_message_id}>"] * 2 + [f"<{other.platform_message_id}>"]


@pytest.mark.parametrize(
    ("answer", "retryable", "code"),
    [
        ("421 4.7.0 Try again later, closing connection", True, "smtp-421"),
        ("451 4.3.0 Mail server temporarily rejected message", True, "smtp-451"),
        ("550 5.7.1 Message rejected as spam", False, "smtp-550"),
        ("554 5.6.0 Message content rejected", False, "smtp-554"),
    ],
)
async def test_smtp_errors_are_classed(
    smtp_server: SmtpServer, tmp_path: Path, answer: str, retryable: bool, code: str
) -> None:
    smtp_server.handler.reply = answer
    with pytest.raises(PlatformError) as caught:
        await channel(smtp_server.port, tmp_path).send(reply())
    assert caught.value.retryable is retryable
    assert caught.value.code == code
    assert answer.split(" ", 2)[2] in str(caught.value)
    assert smtp_server.received == []


async def test_unreachable_server_is_retryable(tmp_path: Path) -> None:
    with pytest.raises(PlatformError) as caught:
        await channel(free_port(), tmp_path).send(reply())
    assert (caught.value.retryable, caught.value.code) == (True, "smtp-connect")


async def test_first_message_without_thread_gets_plain_headers(
    smtp_server: SmtpServer, tmp_path: Path
) -> None:
    await channel(smtp_server.port, tmp_path).send(
        reply(reply_to=None, references=(), subject=None, ticket_number="LBP-2026-00007")
    )
    mail = smtp_server.received[0].message
    assert (mail["In-Reply-To"], mail["References"]) == (None, None)
    assert mail["Subject"] == "[LBP-2026-00007]"


@pytest.mark.parametrize(
    ("subject", "ticket", "expected"),
    [
        ("Jalan rusak", "LBP-2026-00042", "Re: Jalan rusak [LBP-2026-00042]"),
        ("Re: Jalan rusak [LBP-2026-00042]", "LBP-2026-00042", "Re: Jalan rusak [LBP-2026-00042]"),
        ("RE: Jalan rusak", None, "RE: Jalan rusak"),
        (None, None, ""),
    ],
)
def test_reply_subject(subject: str | None, ticket: str | None, expected: str) -> None:
    assert reply_subject(subject, ticket) == expected


async def test_an_address_with_a_line_break_is_refused_for_good(
    smtp_server: SmtpServer, tmp_path: Path
) -> None:
    bad = reply(recipient_contact="warga@mail.id\r\nBcc: semua@mail.id")
    with pytest.raises(PlatformError) as caught:
        await channel(smtp_server.port, tmp_path).send(bad)
    assert (caught.value.retryable, caught.value.code) == (False, "invalid-message")
    assert smtp_server.received == []


async def test_a_line_break_in_the_reporters_subject_is_sent_on_one_line(
    smtp_server: SmtpServer, tmp_path: Path
) -> None:
    # Stored before subjects were read on one line, or from another source: never a header.
    await channel(smtp_server.port, tmp_path).send(
        reply(subject="Jalan rusak\r\nBcc: semua@mail.id\r\n\r\nisi palsu")
    )
    [captured] = smtp_server.received
    assert captured.message["Subject"] == (
        "Re: Jalan rusak Bcc: semua@mail.id isi palsu [LBP-2026-00042]"
    )
    assert captured.message["Bcc"] is None
    assert captured.rcpt_tos == ["dewi.lestari@outlook.co.id"]


async def test_an_automatic_message_is_marked_auto_submitted(
    smtp_server: SmtpServer, tmp_path: Path
) -> None:
    email = channel(smtp_server.port, tmp_path)
    await email.send(reply(automatic=True, idempotency_key="outbox-44"))
    await email.send(reply())
    automatic, typed = (c.message for c in smtp_server.received)
    assert automatic["Auto-Submitted"] == "auto-generated"
    assert typed["Auto-Submitted"] is None
