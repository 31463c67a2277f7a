"""Replies to an email reporter end to end: a real Dovecot in, a real aiosmtpd out, Kanal between,
on SQLite and PostgreSQL: Kanal's own texts are Auto-Submitted, an operator's typed reply is not."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp

from api_client import Api, running_api
from inbox_site import add_staff, browser, csrf_of, png
from servers.dovecot import Dovecot
from servers.smtp import SmtpServer
from support.waiting import until
from triage.config import TriageConfig

REPORT = (
    b"From: Warga Kayen <warga.kayen@mail.id>\r\nTo: aduan@kanal.test\r\n"
    b"Subject: =?utf-8?q?Jalan_rusak=0D=0ABcc:_semua@mail.id?=\r\n"
    b"Date: Mon, 23 Nov 2026 08:00:00 +0700\r\nMessage-ID: <kayen-1@mail.id>\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n\r\nJalan di Desa Kayen berlubang besar.\r\n"
)


def email_settings(dovecot: Dovecot, mailbox: str, smtp: SmtpServer) -> dict[str, Any]:
    return {
        "enabled": True,
        "imap_host": dovecot.host,
        "imap_port": dovecot.port,
        "imap_tls": "none",
        "username": dovecot.user,
        "password": dovecot.password,
        "folder": mailbox,
        "poll_interval": "0.3s",
        "imap_timeout": "5s",
        "smtp_host": smtp.host,
        "smtp_port": smtp.port,
        "smtp_tls": "none",
        "from_address": "aduan@kanal.test",
        "from_name": "LaporBupPati",
        "smtp_timeout": "5s",
    }


async def test_kanals_own_mails_are_auto_submitted_and_an_operators_reply_is_not(
    database_url: str,
    tmp_path: Path,
    clock,
    dovecot: Dovecot,
    mailbox: str,
    smtp_server: SmtpServer,
) -> None:
    dovecot.append(mailbox, REPORT)
    triage = TriageConfig(clarification_timeout="3d", reminder_before="1d")
    channels = {"email": email_settings(dovecot, mailbox, smtp_server)}
    async with running_api(database_url, tmp_path, clock, triage=triage, channels=channels) as api:
        await until(lambda: ticket(api))
        await api.act("LBP-2026-00001", {"action": "request_clarification"})
        typed = "Mohon kirim foto jalannya, Pak."
        await api.act("LBP-2026-00001", {"action": "reply", "message": typed})
        clock.advance(timedelta(days=2, hours=1))
        await asyncio.to_thread(api.runtime.sweeps.run)  # the reminder
        clock.advance(timedelta(days=1))
        await asyncio.to_thread(api.runtime.sweeps.run)  # the closing

        async def five_sent() -> bool:
            return len(smtp_server.received) == 5

        await until(five_sent)
    sent = [c.message for c in smtp_server.received]
    texts = [m.get_body(("plain",)).get_content().split("\n")[0] for m in sent]
    assert [t[:30] for t in texts] == [
        "Terima kasih, laporan Anda sud",  # the acknowledgement with the number (issue 18)
        "Laporan LBP-2026-00001: agar d",
        "Mohon kirim foto jalannya, Pak",
        "Pengingat: laporan LBP-2026-00",
        "Laporan LBP-2026-00001 kami tu",
    ]
    assert [m["Auto-Submitted"] for m in sent] == [
        "auto-generated",
        "auto-generated",
        None,
        "auto-generated",
        "auto-generated",
    ]
    # The reporter's subject had a CR/LF: read on one line, never sent as a second header.
    assert {m["Subject"] for m in sent} == {"Re: Jalan rusak Bcc: semua@mail.id [LBP-2026-00001]"}
    assert all(m["Bcc"] is None for m in sent)
    assert {tuple(c.rcpt_tos) for c in smtp_server.received} == {("warga.kayen@mail.id",)}


async def ticket(api: Api) -> Any:
    status, body = await api.get("/api/tickets/LBP-2026-00001")
    return body if status == 200 else None


ASKING = (
    b"From: Warga Kayen <warga.kayen@mail.id>\r\nTo: aduan@kanal.test\r\n"
    b"Subject: Re: Jalan rusak\r\n"
    b"Date: Mon, 23 Nov 2026 09:00:00 +0700\r\nMessage-ID: <kayen-2@mail.id>\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n\r\ncek status\r\n"
)


async def test_an_email_reporter_is_acknowledged_and_may_ask_for_the_status(
    database_url: str,
    tmp_path: Path,
    clock,
    dovecot: Dovecot,
    mailbox: str,
    smtp_server: SmtpServer,
) -> None:
    """Issue 18 on email: the number comes back by mail, and "cek status" is answered."""
    dovecot.append(mailbox, REPORT)
    channels = {"email": email_settings(dovecot, mailbox, smtp_server)}
    async with running_api(database_url, tmp_path, clock, channels=channels) as api:
        await until(lambda: _sent(smtp_server, 1))
        dovecot.append(mailbox, ASKING)
        await until(lambda: _sent(smtp_server, 2))
        _, body = await api.get("/api/tickets", limit="10")
    texts = [c.message.get_body(("plain",)).get_content() for c in smtp_server.received]
    assert "nomor LBP-2026-00001" in texts[0]
    assert texts[1].startswith("Laporan LBP-2026-00001 sedang diperiksa oleh petugas kami.")
    assert [t["number"] for t in body["items"]] == ["LBP-2026-00001"]  # no second ticket


async def _sent(smtp: SmtpServer, count: int) -> bool:
    return len(smtp.received) >= count


async def test_an_opd_answer_goes_by_mail_with_its_files_attached(
    database_url: str,
    tmp_path: Path,
    clock,
    dovecot: Dovecot,
    mailbox: str,
    smtp_server: SmtpServer,
) -> None:
    """Issue 18, item 5 on email: the liaison attaches a photo and a letter on the ticket page;
    the operator's resolve sends the answer as one mail with both attached."""
    dovecot.append(mailbox, REPORT)
    channels = {"email": email_settings(dovecot, mailbox, smtp_server)}
    async with running_api(database_url, tmp_path, clock, channels=channels) as api:
        await until(lambda: _sent(smtp_server, 1))  # the acknowledgement
        number = "LBP-2026-00001"
        await api.act(number, {"action": "verify", "category": "jalan", "forward": True})
        add_staff(api, "pupr1", "opd", opd="pupr")
        async with browser(api) as liaison:
            await liaison.sign_in("pupr1")
            _, html = await liaison.page(f"/tickets/{number}")
            form = aiohttp.FormData()
            for name, value in (("csrf", csrf_of(html)), ("action", "answer"), ("message", ANSWER)):
                form.add_field(name, value)
            form.add_field("files", PHOTO, filename="tambalan.png", content_type="image/png")
            form.add_field("files", LETTER, filename="surat.pdf", content_type="application/pdf")
            posted = await liaison.http.post(
                f"/tickets/{number}/actions", data=form, allow_redirects=False
            )
            assert posted.status == 303
        await api.act(number, {"action": "resolve"})
        await until(lambda: _sent(smtp_server, 4))  # forwarding, answer, check-back
    answer = smtp_server.received[2].message
    assert answer.get_body(("plain",)).get_content().startswith(ANSWER)
    attached = [
        (part.get_filename(), part.get_content_type(), part.get_content())
        for part in answer.iter_attachments()
    ]
    assert attached == [
        ("tambalan.png", "image/png", PHOTO),
        ("surat.pdf", "application/pdf", LETTER),
    ]


ANSWER = "Jalan di Desa Kayen sudah ditambal pada 24 November 2026."
PHOTO = png(200, 120)
LETTER = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
