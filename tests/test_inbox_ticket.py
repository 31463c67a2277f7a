"""The ticket page: conversation, suggestions, audit trail, the actions' forms (through the same
TicketActions as the API), attachments and escaping; on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from markupsafe import escape
from sqlmodel import select

from api_client import Api, report, running_api
from channels.base import Attachment, AttachmentKind, Location, MediaResult
from fake_whatsapp_webhooks import OUR_ACCOUNT, signature, webhook_bytes
from inbox_site import add_staff, browser, png
from store.models import Attachment as StoredAttachment
from store.models import Message, Ticket
from store.users import create_token
from support.paths import fixtures_of
from support.waiting import until

NUMBER = "LBP-2026-00001"
WA_SECRET = "rahasia-aplikasi"
PNG = png()


@pytest.fixture
async def api(database_url: str, tmp_path: Path, clock) -> AsyncIterator[Api]:
    async with running_api(database_url, tmp_path, clock) as running:
        add_staff(running, "siti", "operator")
        add_staff(running, "pupr1", "opd", opd="pupr")
        add_staff(running, "dishub1", "opd", opd="dishub")
        yield running


async def photo_report(api: Api, n: int = 1, *, path: str = "media/foto1.png") -> None:
    """A WhatsApp report with a photo (stored by the channel) and a shared location."""
    photo = Attachment(AttachmentKind.IMAGE, "image/png", media_ref=f"media-{n}")
    message = replace(
        report(n, text="Jalan berlubang dekat balai desa"),
        attachments=(photo,),
        location=Location(-6.7551, 111.0383, name="Balai Desa Kayen"),
    )
    await api.runtime.intake.submit([message])
    target = api.runtime.data_dir / "media" / "foto1.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(PNG)
    await api.runtime.intake.record_media(
        MediaResult(
            "whatsapp",
            f"wamid.{n}",
            f"media-{n}",
            stored_path=path,
            size=len(PNG),
            mime_type="image/png",
        )
    )


def attachment_id(api: Api) -> int:
    with api.runtime.db.read() as session:
        return session.exec(select(StoredAttachment)).one().id or 0


async def test_the_ticket_page_shows_the_conversation_photo_location_and_hints(api: Api) -> None:
    await photo_report(api)

    async def assessed() -> bool:
        return "missing" in (await api.get(f"/api/tickets/{NUMBER}"))[1]["flags"]

    await until(assessed)
    async with browser(api) as b:
        await b.sign_in("siti")
        status, html = await b.page(f"/tickets/{NUMBER}")
        assert status == 200
        assert "Jalan berlubang dekat balai desa" in html
        assert "Warga 1" in html
        assert f'<img src="/attachments/{attachment_id(api)}"' in html
        assert (
            'href="https://www.openstreetmap.org/?mlat=-6.7551&amp;mlon=111.0383'
            '#map=17/-6.7551/111.0383"' in html
        )
        assert "Balai Desa Kayen" in html
        assert "Kategori yang disarankan: <strong>Jalan dan jembatan</strong>" in html
        assert "Laporan masuk" in html  # the audit trail's first event
        assert "23 Nov 2026 08.00 WIB" in html  # sent 01:00 UTC, shown in Jakarta time
        # Actions offered for a new ticket; its verify form forwards in the same step.
        for offered in ("verify", "verify_forward", "request_clarification", "reject", "reply"):
            assert f'data-action="{offered}"' in html
        assert 'data-action="forward"' not in html
        assert "Dikirim lewat WhatsApp" in html
        assert 'id="window-warning"' not in html  # the reporter wrote an hour ago


async def test_the_ticket_page_shows_where_the_report_says_it_is(api: Api) -> None:
    text = "Jalan desa Gedangan kec Welahan jepara berlubang, rt 03 rw 02"
    await api.runtime.intake.submit([report(1, text=text)])

    async def assessed() -> bool:
        return "place_evidence" in (await api.get(f"/api/tickets/{NUMBER}"))[1]["flags"]

    await until(assessed)
    async with browser(api) as b:
        await b.sign_in("siti")
        _, html = await b.page(f"/tickets/{NUMBER}")
    assert "Kemungkinan di luar wilayah: Laporan menyebut tempat di luar Kabupaten Pati" in html
    assert "Petunjuk tempat dalam laporan" in html
    evidence = html[html.index('id="place-evidence"') :].split("</ul>", 1)[0]
    assert [line.rsplit(">", 1)[1] for line in evidence.split("</li>")[:-1]] == [
        "“desa Gedangan” → Desa Gedangan, Kecamatan Welahan, Kabupaten Jepara (di luar wilayah)",
        "“kec Welahan” → Kecamatan Welahan, Kabupaten Jepara (di luar wilayah)",
        "“jepara” → Kabupaten Jepara (di luar wilayah)",
        "“rt 03” (petunjuk lokasi)",
        "“rw 02” (petunjuk lokasi)",
    ]
    assert "Belum ada: foto" in html  # the place is given; only the photo is missing


async def test_the_reply_box_warns_when_whatsapp_will_send_a_template(api: Api) -> None:
    await api.runtime.intake.submit([report(1)])
    api.clock.advance(timedelta(hours=25))
    async with browser(api) as b:
        await b.sign_in("siti")
        _, html = await b.page(f"/tickets/{NUMBER}")
        assert "lebih dari 24 jam lalu" in html
        assert 'id="window-warning"' in html


async def test_every_action_form_goes_through_ticket_actions(api: Api) -> None:
    await api.runtime.intake.submit([report(1), report(2)])
    async with browser(api) as b:
        await b.sign_in("siti")
        response = await b.act(NUMBER, action="request_clarification", facts="location", message="")
        assert (response.status, response.headers["Location"]) == (
            303,
            f"/tickets/{NUMBER}?done=request_clarification",
        )
        await api.runtime.intake.submit(
            [replace(report(1, text="Di depan balai desa"), external_id="wamid.answer")]
        )
        assert (await b.act(NUMBER, action="verify", category="jalan")).status == 303
        assert (await b.act(NUMBER, action="forward", opd="pupr")).status == 303
        assert (await b.act(NUMBER, action="reply", message="Sedang kami proses.")).status == 303
        assert (await b.act(NUMBER, action="note", text="Cek ke lapangan besok")).status == 303
        assert (await b.act("LBP-2026-00002", action="merge", into=NUMBER)).status == 303
        _, body = await api.get(f"/api/tickets/{NUMBER}")
        assert (body["status"], body["category"], body["opd"]) == ("forwarded", "jalan", "pupr")
        assert [e["action"] for e in body["events"]] == [
            "opened",
            "request_clarification",
            "reporter_answered",
            "verify",
            "forward",
            "reply",
            "note",
            "merged_from",
        ]
        assert all(e["actor"] in ("siti", "system") for e in body["events"])
        assert body["events"][1]["data"]["facts"] == ["location"]
        assert body["messages"][-1]["text"] == "Sedang kami proses."
        _, merged = await api.get("/api/tickets/LBP-2026-00002")
        assert (merged["status"], merged["resolution"]) == ("closed", "duplicate")
        _, page = await b.page(f"/tickets/{NUMBER}", done="note")
        assert "Tindakan tersimpan." in page
        assert "Cek ke lapangan besok" in page
        assert (
            "<strong>Teruskan ke OPD</strong> (Baru → Diteruskan ke OPD) · "
            "Dinas Pekerjaan Umum dan Penataan Ruang" in page
        )
        assert "<strong>Minta kelengkapan</strong> (Baru → Menunggu pelapor) · lokasi" in page


async def test_refused_actions_say_why_and_change_nothing(api: Api) -> None:
    await api.runtime.intake.submit([report(1)])
    async with browser(api) as b:
        await b.sign_in("siti")
        response = await b.act(NUMBER, action="forward", opd="pupr")
        assert response.status == 409
        page = await response.text()
        assert "Teruskan ke OPD tidak berlaku untuk laporan berstatus Baru" in page
        assert 'data-detail="a ticket must be verified before it is forwarded"' in page
        response = await b.act(NUMBER, action="resolve", message="")
        assert response.status == 422
        response = await b.act(NUMBER, action="reject", resolution="bukan-alasan")
        assert response.status == 422
        response = await b.act(NUMBER, action="auto_close")
        assert response.status == 422
    _, body = await api.get(f"/api/tickets/{NUMBER}")
    assert (body["status"], [e["action"] for e in body["events"]]) == ("new", ["opened"])


async def test_the_clarification_text_follows_the_chosen_facts(api: Api) -> None:
    await api.runtime.intake.submit([report(1)])
    async with browser(api) as b:
        await b.sign_in("siti")
        _, text = await b.page(f"/tickets/{NUMBER}/clarification", facts="photo")
        assert text.startswith("Laporan LBP-2026-00001: agar dapat kami tindak lanjuti")
        assert "1. foto atau video yang menunjukkan masalahnya" in text
        assert "Kamis, 26 November 2026 pukul 09.00 WIB" in text


async def test_an_opd_acts_only_on_its_own_tickets_and_only_as_an_opd(api: Api) -> None:
    await api.runtime.intake.submit([report(1)])
    await api.act(NUMBER, {"action": "verify", "category": "jalan"})
    await api.act(NUMBER, {"action": "forward"})
    async with browser(api) as pupr, browser(api) as dishub:
        await pupr.sign_in("pupr1")
        await dishub.sign_in("dishub1")
        assert (await dishub.page(f"/tickets/{NUMBER}"))[0] == 404
        _, html = await pupr.page(f"/tickets/{NUMBER}")
        assert 'data-action="acknowledge"' in html and 'data-action="verify"' not in html
        response = await pupr.act(NUMBER, action="reject", resolution="spam")
        assert response.status == 403
        assert (await pupr.act(NUMBER, action="acknowledge")).status == 303
        response = await pupr.act(NUMBER, action="resolve", message="Sudah ditambal.")
        assert response.status == 303
    _, body = await api.get(f"/api/tickets/{NUMBER}")
    assert (body["status"], body["events"][-1]["actor"]) == ("resolved", "pupr1")


async def test_script_in_a_report_is_shown_as_text(api: Api) -> None:
    evil_name = '<img src=x onerror="alert(1)">Budi'
    evil_text = "<script>alert('xss')</script><b>tebal</b> & \"kutip\""
    await api.runtime.intake.submit([replace(report(1, text=evil_text), display_name=evil_name)])
    async with browser(api) as b:
        await b.sign_in("siti")
        for path in ("/", f"/tickets/{NUMBER}"):
            _, html = await b.page(path)
            assert "<script>alert" not in html
            assert "<img src=x" not in html
            assert "<b>tebal</b>" not in html
            assert str(escape(evil_name)) in html
        assert str(escape(evil_text)) in html


async def test_attachments_are_served_only_to_who_may_see_the_ticket(api: Api) -> None:
    await photo_report(api)
    found = attachment_id(api)
    async with browser(api) as operator, browser(api) as liaison, browser(api) as nobody:
        await operator.sign_in("siti")
        await liaison.sign_in("pupr1")
        response = await operator.http.get(f"/attachments/{found}")
        assert response.status == 200
        assert response.headers["Content-Type"] == "image/png"
        assert response.headers["Content-Disposition"] == "inline; filename*=UTF-8''foto1.png"
        assert "sandbox" in response.headers["Content-Security-Policy"]
        # Nothing stays in the browser's cache after sign-out (a shared office computer).
        assert response.headers["Cache-Control"] == "no-store"
        assert await response.read() == PNG
        download = await operator.http.get(f"/attachments/{found}?download=1")
        assert download.headers["Content-Disposition"].startswith("attachment;")
        assert (await liaison.http.get(f"/attachments/{found}")).status == 404
        assert (await operator.http.get(f"/attachments/{found + 1}")).status == 404
        response = await nobody.http.get(f"/attachments/{found}", allow_redirects=False)
        assert response.status == 303


async def test_a_stored_path_outside_the_data_directory_is_never_served(api: Api) -> None:
    secret = api.runtime.data_dir.parent / "rahasia.txt"
    secret.write_text("jangan dibaca")
    await photo_report(api, path="../rahasia.txt")
    async with browser(api) as b:
        await b.sign_in("siti")
        assert (await b.http.get(f"/attachments/{attachment_id(api)}")).status == 404


async def test_an_html_attachment_is_only_downloaded(api: Api) -> None:
    page = api.runtime.data_dir / "media" / "surat.html"
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text("<script>alert(1)</script>")
    document = Attachment(
        AttachmentKind.DOCUMENT, "text/html", media_ref="d1", file_name='surat"\r\nX-Evil: 1.html'
    )
    await api.runtime.intake.submit([replace(report(1), attachments=(document,))])
    await api.runtime.intake.record_media(
        MediaResult(
            "whatsapp", "wamid.1", "d1", stored_path="media/surat.html", mime_type="text/html"
        )
    )
    async with browser(api) as b:
        await b.sign_in("siti")
        response = await b.http.get(f"/attachments/{attachment_id(api)}")
        assert response.status == 200
        assert response.headers["Content-Disposition"] == (
            "attachment; filename*=UTF-8''surat%22%0D%0AX-Evil%3A%201.html"
        )
        assert "X-Evil" not in response.headers


async def test_the_ticket_page_in_english(api: Api) -> None:
    await api.runtime.intake.submit([report(1)])
    async with browser(api) as b:
        await b.sign_in("siti")
        await b.post_form("/locale", {"locale": "en"}, from_page="/")
        _, html = await b.page(f"/tickets/{NUMBER}")
        assert "<h2>Conversation</h2>" in html and "<h2>Audit trail</h2>" in html
        assert "23 Nov 2026 08:00 WIB" in html
        assert "Sent on WhatsApp" in html
        assert 'data-action="request_clarification">Ask for clarification</button>' in html


async def test_the_duplicate_hint_writes_its_score_the_way_each_language_does(api: Api) -> None:
    await api.runtime.intake.submit([report(1, text="Jalan di desa Kajen berlubang besar")])
    again = "jalannya berlubang besar pak, di desa Kajen Margoyoso"
    await api.runtime.intake.submit([report(2, sender="628120009999", text=again)])
    second = "LBP-2026-00002"

    async def flagged() -> bool:
        return (await api.get(f"/api/tickets/{second}"))[1]["flags"].get("duplicate_of") == NUMBER

    await until(flagged)
    async with browser(api) as b:
        await b.sign_in("siti")
        _, html = await b.page(f"/tickets/{second}")
        # As in test_assess: the place name only the second report has, Margoyoso, weighs more.
        assert f"Kemungkinan duplikat dari {NUMBER} (kemiripan 0,763)" in html
        await b.post_form("/locale", {"locale": "en", "next": "/"}, from_page="/")
        _, html = await b.page(f"/tickets/{second}")
        assert f"Likely duplicate of {NUMBER} (similarity 0.763)" in html


async def test_a_message_kanal_cannot_show_carries_a_notice_in_the_operators_language(
    database_url: str, tmp_path: Path, clock
) -> None:
    """WhatsApp delivers a type Kanal does not read: the row keeps a code, the page the words."""
    whatsapp = {
        "enabled": True,
        "verify_token": "v",
        "app_secret": WA_SECRET,
        "access_token": "t",
        "phone_number_id": OUR_ACCOUNT,
        "api_base": "http://127.0.0.1:9/v23.0",  # nothing is fetched or sent
    }
    body = webhook_bytes(
        json.loads((fixtures_of("whatsapp") / "unknown_type__invented.json").read_bytes())
    )
    headers = {"X-Hub-Signature-256": signature(body, WA_SECRET)}
    async with running_api(database_url, tmp_path, clock, channels={"whatsapp": whatsapp}) as api:
        add_staff(api, "siti", "operator")
        answer = await api.client.post("/webhooks/whatsapp", data=body, headers=headers)
        assert answer.status == 200
        with api.runtime.db.read() as session:
            stored = session.exec(select(Message).where(Message.direction == "in")).one()
            ticket = session.exec(select(Ticket)).one()
        assert (stored.text, stored.notice, stored.notice_args) == (
            "",
            "unsupported_kind",
            {"kind": "hologram"},
        )
        indonesian = (
            '[Pesan WhatsApp jenis "hologram" belum dapat ditampilkan di Kanal; '
            "isi aslinya tersimpan]"
        )
        assert ticket.summary == indonesian  # the queue's one line, in the site's language
        async with browser(api) as b:
            await b.sign_in("siti")
            _, html = await b.page(f"/tickets/{ticket.number}")
            assert f'<p class="channel-notice muted">{escape(indonesian)}</p>' in html
            await b.post_form("/locale", {"locale": "en", "next": "/"}, from_page="/")
            _, html = await b.page(f"/tickets/{ticket.number}")
        english = (
            '[WhatsApp message of kind "hologram" cannot be shown in Kanal yet; '
            "the original is stored]"
        )
        assert f'<p class="channel-notice muted">{escape(english)}</p>' in html
        assert escape(indonesian) not in html
        _, detail = await api.get(f"/api/tickets/{ticket.number}")
        assert [(m["text"], m["notice"], m["notice_args"]) for m in detail["messages"]] == [
            ("", "unsupported_kind", {"kind": "hologram"})
        ]


async def test_a_follow_up_ticket_links_the_old_one_and_lists_the_reporters_reports(
    api: Api,
) -> None:
    """Issue 18: the operator sees what the reporter wrote before, and what a ticket follows."""
    sender = "628120000001"
    await api.runtime.intake.submit([report(1)])
    assert (await api.act(NUMBER, {"action": "resolve", "message": "Sudah diperbaiki."}))[0] == 200
    api.clock.advance(timedelta(days=15))  # past [triage] reopen_within
    await api.runtime.intake.submit([report(2, sender=sender, text="Jalannya rusak lagi")])
    await api.runtime.intake.submit([report(3, sender="628120009999")])  # someone else's
    second = "LBP-2026-00002"

    async with browser(api) as b:
        await b.sign_in("siti")
        _, html = await b.page(f"/tickets/{second}")
        assert "Lanjutan dari laporan LBP-2026-00001 milik pelapor yang sama" in html
        assert f'data-follows="{NUMBER}"' in html
        assert "<h2>Laporan lain dari pelapor ini</h2>" in html
        assert f'<li data-number="{NUMBER}">' in html
        assert 'data-number="LBP-2026-00003"' not in html
        _, first = await b.page(f"/tickets/{NUMBER}")
        assert f'<li data-number="{second}">' in first and "data-follows" not in first

    # The API's ticket says the same as the page's panel.
    _, detail = await api.get(f"/api/tickets/{second}")
    earlier = {
        "number": NUMBER,
        "status": "resolved",
        "category": None,
        "created_at": "2026-11-23T09:00:00+07:00",
        "summary": "Laporan nomor 1: jalan rusak di Desa Kayen",
    }
    assert (detail["follows"], detail["reporter_history"]) == (earlier, [earlier])
    _, first = await api.get(f"/api/tickets/{NUMBER}")
    assert first["follows"] is None
    assert [(t["number"], t["status"]) for t in first["reporter_history"]] == [(second, "new")]

    # Reopened by the reporter within the window: the audit trail says who reopened it.
    assert (await api.act(second, {"action": "resolve", "message": "Sudah."}))[0] == 200
    api.clock.advance(timedelta(days=2))
    await api.runtime.intake.submit([report(4, sender=sender, text="Masih berlubang")])
    async with browser(api) as b:
        await b.sign_in("siti")
        _, html = await b.page(f"/tickets/{second}")
        assert "Dibuka kembali oleh pesan pelapor" in html


async def test_an_opd_sees_no_other_reports_of_the_reporter(api: Api) -> None:
    await api.runtime.intake.submit([report(1, text="Jalan rusak di Kayen")])
    await api.runtime.intake.submit([report(2, sender="628120000001", text="cek")])  # a status
    api.clock.advance(timedelta(minutes=1))
    assert (await api.act(NUMBER, {"action": "resolve", "message": "Sudah."}))[0] == 200
    api.clock.advance(timedelta(days=15))
    await api.runtime.intake.submit([report(3, sender="628120000001")])
    second = "LBP-2026-00002"
    assert (await api.act(second, {"action": "verify", "category": "jalan"}))[0] == 200
    assert (await api.act(second, {"action": "forward"}))[0] == 200
    async with browser(api) as b:
        await b.sign_in("pupr1")
        status, html = await b.page(f"/tickets/{second}")
        assert status == 200
        assert "reporter-history" not in html and "data-follows" not in html
    # Nor in the API: the earlier report is not forwarded to PUPR.
    with api.runtime.db.write() as session:
        pupr = create_token(session, "pupr1", now=api.clock())
    _, detail = await api.get(f"/api/tickets/{second}", token=pupr)
    assert (detail["number"], detail["follows"], detail["reporter_history"]) == (second, None, [])
    _, staff = await api.get(f"/api/tickets/{second}")
    assert staff["follows"]["number"] == NUMBER
