"""Every mail in tests/channels/email/fixtures/ parsed field by field, attachments kept on disk."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from channels.base import DeliveryState, DeliveryStatus, InboundMessage, UnsupportedEvent
from channels.email.parse import ParseContext, parse_email, parse_mail

FIXTURES = Path(__file__).resolve().parent / "fixtures"
FILES = sorted(FIXTURES.glob("*.eml"))
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
# Event prefixes of the fixture names, and what the parser makes of each.
EVENTS = {
    "report": "message",
    "auto_reply": "auto_reply",
    "bounce": "bounce",
    "own_mail": "own_mail",
}


def context(data_dir: Path) -> ParseContext:
    return ParseContext(
        account="aduan@kanal.test",
        data_dir=data_dir,
        own_addresses=frozenset({"aduan@kanal.test"}),
        own_msgid_domain="kanal.kanal.test",
        clock=lambda: NOW,
    )


EXPECTED: dict[str, dict] = {
    "auto_reply__out_of_office.eml": {
        "kind": "auto_reply",
        "external_id": "auto.20261123112058.5521@mail.patikab.go.id",
        "reason": "Auto-Submitted: auto-replied",
    },
    "auto_reply__precedence_bulk.eml": {
        "kind": "auto_reply",
        "external_id": "promo.20261123.aduan@tokoonline.example",
        "reason": "Precedence: bulk",
    },
    "auto_reply__x_autoreply.eml": {
        "kind": "auto_reply",
        "external_id": "autoresp.99812@mail.rsud-pati.id",
        "reason": "X-Autoreply header present",
    },
    "bounce__gmail_dsn.eml": {
        "kind": "bounce",
        "external_id": "6565a1b2.050a0220.c3d4e.0001.GMR@mx.google.com",
        "reason": "delivery status notification (multipart/report; report-type=delivery-status)",
    },
    "bounce__postmaster_plain.eml": {
        "kind": "bounce",
        "external_id": "20261123050113.22310.qmail@mail.desa.id",
        "reason": "sender is postmaster (postmaster@mail.desa.id)",
    },
    "own_mail__our_message_id.eml": {
        "kind": "own_mail",
        "external_id": "9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d@kanal.kanal.test",
        "reason": "our own Message-ID domain (kanal.kanal.test)",
    },
    "own_mail__sent_copy.eml": {
        "kind": "own_mail",
        "external_id": "3f1c0a9e2b7d4c5a8e6f1b2c3d4e5f60@kanal.kanal.test",
        "reason": "sent by our own address (aduan@kanal.test)",
    },
    "report__android_gmail_pdf_photo.eml": {
        "external_id": "CAF8vN0=Xq2pR7sT9uW1yZ3aB5cD7eF9gH@mail.gmail.com",
        "sender_id": "yusuf.hakim.id@gmail.com",
        "display_name": "Yusuf Hakim — Warga Juwana",
        "contact": "yusuf.hakim.id@gmail.com",
        "subject": "Pengaduan pungutan liar – KTP Kecamatan Juwana",
        "sent_at": "2026-11-23T13:45:11+07:00",
        "text": (
            "Dengan hormat,\n"
            "\n"
            "Bersama ini saya lampirkan surat pengaduan resmi terkait pungutan liar di "
            "loket pelayanan KTP Kecamatan Juwana, beserta foto kuitansinya.\n"
            "\n"
            "Terima kasih."
        ),
        "reply_to": None,
        "references": (),
        "forwarded": False,
        "parse_error": None,
        "attachments": [
            ("document", "application/pdf", "Surat Pengaduan – Juwana.pdf", 142, None),
            ("image", "image/jpeg", "IMG_20261123_134012.jpg", 922, None),
        ],
    },
    "report__forwarded_attachment.eml": {
        "external_id": "e1f2a3b4c5d6@mail.patikab.go.id",
        "sender_id": "lurah.kalidoro@patikab.go.id",
        "display_name": "Lurah Kalidoro",
        "contact": "lurah.kalidoro@patikab.go.id",
        "subject": "FW: Keluhan warga soal jalan desa",
        "sent_at": "2026-11-23T18:29:40+07:00",
        "text": (
            "Diteruskan untuk ditangani Dinas PUPR.\n"
            "\n"
            "---------- Forwarded message ----------\n"
            "From: Slamet Riyadi <slamet.riyadi@gmail.com>\n"
            "Date: Sun, 22 Nov 2026 20:11:00 +0700\n"
            "Subject: Jalan desa rusak parah\n"
            "\n"
            "Jalan penghubung Kalidoro - Sidoharjo rusak parah, banyak lubang sedalam 20 cm."
        ),
        "reply_to": None,
        "references": (),
        "forwarded": True,
        "parse_error": None,
        "attachments": [
            ("document", "message/rfc822", "Jalan desa rusak parah.eml", 376, None),
        ],
    },
    "report__forwarded_inline.eml": {
        "external_id": "CAB7xY8zA9bC0dE1fG2hI3jK4lM5nO6pQ@mail.gmail.com",
        "sender_id": "ahmad.fauzi@gmail.com",
        "display_name": "Ahmad Fauzi",
        "contact": "ahmad.fauzi@gmail.com",
        "subject": "Fwd: Air PDAM tidak mengalir",
        "sent_at": "2026-11-23T17:59:52+07:00",
        "text": (
            "Mohon ditindaklanjuti, ini keluhan tetangga saya yang tidak punya email.\n"
            "\n"
            "---------- Pesan terusan ---------\n"
            "Dari: Sri Wahyuni <sri.wahyuni.pati@gmail.com>\n"
            "Date: Min, 22 Nov 2026 pukul 19.40\n"
            "Subject: Air PDAM tidak mengalir\n"
            "To: Ahmad Fauzi <ahmad.fauzi@gmail.com>\n"
            "\n"
            "\n"
            "Pak Ahmad, tolong sampaikan ke pemkab ya. Sudah 3 hari air PDAM di Gang "
            "Melati tidak mengalir sama sekali."
        ),
        "reply_to": None,
        "references": (),
        "forwarded": True,
        "parse_error": None,
        "attachments": [],
    },
    "report__gmail_alternative_qp.eml": {
        "external_id": "CAH3kTx9q+Vw4nP2b8Lw1rZ_oK5dJ0qQ@mail.gmail.com",
        "sender_id": "budi.santoso88@gmail.com",
        "display_name": "Budi Santoso",
        "contact": "budi.santoso88@gmail.com",
        "subject": "Saluran air tersumbat di Griya Asri",
        "sent_at": "2026-11-23T09:13:58+07:00",
        "text": (
            "Yth. Admin LaporBup,\n"
            "\n"
            "Saluran air di depan rumah kami di Perumahan Griya Asri Blok C tersumbat sampah\n"
            "sejak hujan deras hari Sabtu. Air meluap ke jalan dan masuk ke halaman warga.\n"
            "Mohon dibantu pengerukan secepatnya.\n"
            "\n"
            "Salam,\n"
            "Budi Santoso"
        ),
        "reply_to": None,
        "references": (),
        "forwarded": False,
        "parse_error": None,
        "attachments": [],
    },
    "report__gmail_reply_pada_menulis.eml": {
        "external_id": "CAJ+pR4sT5uV6wX7yZ8aB9cD0eF1gH2iJ3k@mail.gmail.com",
        "sender_id": "joko.prasetyo@gmail.com",
        "display_name": "Joko Prasetyo",
        "contact": "joko.prasetyo@gmail.com",
        "subject": "Re: Tiang listrik miring [LBP-2026-00031]",
        "sent_at": "2026-11-23T15:02:04+07:00",
        "text": "Baik, besok pagi saya kirimkan foto lokasinya.",
        "reply_to": "5d4c3b2a19087f6e5d4c3b2a19087f6e@kanal.kanal.test",
        "references": ("5d4c3b2a19087f6e5d4c3b2a19087f6e@kanal.kanal.test",),
        "forwarded": False,
        "parse_error": None,
        "attachments": [],
    },
    "report__html_only_cp1252_base64.eml": {
        "external_id": "000a01db3d4e$5f6a7b80$1c3f7280$@desa-sukolilo.id",
        "sender_id": "agus.wibowo@desa-sukolilo.id",
        "display_name": "Agus Wibowo",
        "contact": "agus.wibowo@desa-sukolilo.id",
        "subject": "Jembatan retak di Dusun Krajan",
        "sent_at": "2026-11-23T10:02:40+07:00",
        "text": (
            "Kepada Yth. Dinas PUPR,\n"
            "\n"
            "Jembatan kecil di Dusun Krajan, Desa Sukolilo, retak dan pagar "
            "pengamannya hilang sejak banjir bulan lalu. Anak-anak sekolah melewati "
            "jembatan itu setiap hari.\n"
            "\n"
            "- Lokasi: 200 m dari Balai Desa\n"
            "- Kondisi: retak memanjang ± 2 meter\n"
            "\n"
            "Hormat saya,\n"
            "Agus Wibowo"
        ),
        "reply_to": None,
        "references": (),
        "forwarded": False,
        "parse_error": None,
        "attachments": [],
    },
    "report__iphone_photo.eml": {
        "external_id": "8F3C2D1A-4B5E-4C6D-9E7F-0A1B2C3D4E5F@icloud.com",
        "sender_id": "rina.marlina@icloud.com",
        "display_name": "Rina Marlina",
        "contact": "rina.marlina@icloud.com",
        "subject": "Pohon tumbang menutup jalan",
        "sent_at": "2026-11-23T07:12:27+07:00",
        "text": (
            "Pohon besar tumbang di Jl. Sudirman dekat pertigaan Pasar Baru, menutup "
            "separuh jalan. Berikut fotonya:\n"
            "\n"
            "Mohon segera ditangani sebelum malam."
        ),
        "reply_to": None,
        "references": (),
        "forwarded": False,
        "parse_error": None,
        "attachments": [
            ("image", "image/jpeg", "IMG_0412.jpeg", 622, None),
        ],
    },
    "report__malformed_date_base64.eml": {
        "external_id": "broken.1@mail.id",
        "sender_id": "anon123@mail.id",
        "display_name": None,
        "contact": "anon123@mail.id",
        "subject": "Laporan tanpa tanggal yang benar",
        "sent_at": "2026-11-23T02:00:00+00:00",
        "text": "Terotoar di Jl. Pahlawan rusak.",
        "reply_to": None,
        "references": (),
        "forwarded": False,
        "parse_error": (
            "damaged base64 body (InvalidBase64CharactersDefect); unreadable Date "
            "header 'Senin, 31 Nopember 2026 jam 7 malam'"
        ),
        "attachments": [],
    },
    "report__missing_charset_utf8.eml": {
        "external_id": "5f6e7d8c.1a2b.4c5d@webmail.id",
        "sender_id": "nur.aini@webmail.id",
        "display_name": "Nur Aini",
        "contact": "nur.aini@webmail.id",
        "subject": "Parkir liar di depan RSUD",
        "sent_at": "2026-11-23T17:29:41+07:00",
        "text": (
            "Parkir liar di trotoar depan RSUD RAA Soewondo, tarifnya Rp 5.000 tanpa "
            "karcis. Pengunjung pasien jadi kesulitan lewat — mohon ditertibkan."
        ),
        "reply_to": None,
        "references": (),
        "forwarded": False,
        "parse_error": None,
        "attachments": [],
    },
    "report__nested_multipart_outlook.eml": {
        "external_id": "002c01db3d4e$5f6a7b80$1e3f7280$@konsultan.co.id",
        "sender_id": "bambang.sutrisno@konsultan.co.id",
        "display_name": "Ir. Bambang Sutrisno",
        "contact": "bambang.sutrisno@konsultan.co.id",
        "subject": "Genangan di underpass Jl. Raya Pati-Kudus",
        "sent_at": "2026-11-23T12:09:33+07:00",
        "text": (
            "Selamat siang,\n"
            "\n"
            "Terlampir denah lokasi dan foto genangan di underpass Jl. Raya "
            "Pati-Kudus. Genangan setinggi lutut setiap hujan.\n"
            "\n"
            "Salam,\n"
            "Ir. Bambang Sutrisno"
        ),
        "reply_to": None,
        "references": (),
        "forwarded": False,
        "parse_error": None,
        "attachments": [
            ("image", "image/png", "image001.png", 308, "cid:image001.png@01DB3D4E.5F6A7B80"),
            ("document", "application/pdf", "Denah Lokasi Underpass.pdf", 142, None),
        ],
    },
    "report__no_message_id.eml": {
        "external_id": "sha256:6cf26fa6ded83f4da922102e6fe431f71fbf1164ce4f03f5f9d11290d7b1540b",
        "sender_id": "pak.rt07@mail.id",
        "display_name": "Ketua RT 07",
        "contact": "pak.rt07@mail.id",
        "subject": "Pengajuan perbaikan pos ronda",
        "sent_at": "2026-11-23T18:59:12+07:00",
        "text": (
            "Atap pos ronda RT 07 bocor dan salah satu tiangnya lapuk. Warga mohon "
            "bantuan perbaikan."
        ),
        "reply_to": None,
        "references": (),
        "forwarded": False,
        "parse_error": None,
        "attachments": [],
    },
    "report__outlook_reply_history.eml": {
        "external_id": "SEZPR06MB5421A0B1C2D3E4F5@sezpr06mb5421.apcprd06.prod.outlook.com",
        "sender_id": "dewi.lestari@outlook.co.id",
        "display_name": "Dewi Lestari",
        "contact": "dewi.lestari@outlook.co.id",
        "subject": "RE: Jalan berlubang di Jl. Kartini [LBP-2026-00042]",
        "sent_at": "2026-11-23T04:41:05+00:00",
        "text": (
            "Terima kasih atas tanggapannya. Berikut alamat lengkapnya: Jl. Kartini "
            "No. 17, RT 02/RW 05, Kelurahan Pati Lor. Lubangnya di depan toko bangunan "
            "Sumber Makmur.\n"
            "\n"
            "Salam,\n"
            "Dewi Lestari"
        ),
        "reply_to": "3f1c0a9e2b7d4c5a8e6f1b2c3d4e5f60@kanal.kanal.test",
        "references": ("3f1c0a9e2b7d4c5a8e6f1b2c3d4e5f60@kanal.kanal.test",),
        "forwarded": False,
        "parse_error": None,
        "attachments": [],
    },
    "report__plain_utf8.eml": {
        "external_id": "20261123080109.GA1234@mail.co.id",
        "sender_id": "siti.rahayu@mail.co.id",
        "display_name": "Siti Rahayu",
        "contact": "siti.rahayu@mail.co.id",
        "subject": "Lampu penerangan jalan mati di Jl. Diponegoro",
        "sent_at": "2026-11-23T08:01:09+07:00",
        "text": (
            "Selamat pagi Bapak/Ibu,\n"
            "\n"
            "Sudah seminggu lampu penerangan jalan di Jl. Diponegoro depan SDN 2 mati\n"
            "total. Malam hari sangat gelap dan rawan kecelakaan serta pencurian.\n"
            "\n"
            "Mohon segera diperbaiki. Terima kasih.\n"
            "\n"
            "Siti Rahayu\n"
            "RT 04 / RW 02, Kelurahan Kalidoro"
        ),
        "reply_to": None,
        "references": (),
        "forwarded": False,
        "parse_error": None,
        "attachments": [],
    },
    "report__reply_on_wrote_signature.eml": {
        "external_id": "xQ3rT5yU7iO9pA1sD3fG5hJ7kL9zX1cV@proton.me",
        "sender_id": "maria.ulfa@proton.me",
        "display_name": "Maria Ulfa",
        "contact": "maria.ulfa@proton.me",
        "subject": "Re: Street vendors on the pavement [LBP-2026-00008]",
        "sent_at": "2026-11-23T02:20:05+00:00",
        "text": (
            "Dear team, the street vendor stalls are still blocking the pavement on "
            "Jl. Panglima Sudirman. Pedestrians have to walk on the road."
        ),
        "reply_to": "0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f@kanal.kanal.test",
        "references": ("0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f@kanal.kanal.test",),
        "forwarded": False,
        "parse_error": None,
        "attachments": [],
    },
    "report__unknown_charset.eml": {
        "external_id": "20261123170458.7781@mailbox.id",
        "sender_id": "w.hartono@mailbox.id",
        "display_name": "Wahyu Hartono",
        "contact": "w.hartono@mailbox.id",
        "subject": "Antrean Puskesmas Tlogowungu",
        "sent_at": "2026-11-23T17:04:58+07:00",
        "text": (
            "Pelayanan di Puskesmas Tlogowungu sangat lambat, antrean dari jam 7 pagi "
            "baru dilayani jam 12 siang. Petugas pendaftaran hanya satu orang."
        ),
        "reply_to": None,
        "references": (),
        "forwarded": False,
        "parse_error": "unknown charset 'x-unknown'",
        "attachments": [],
    },
    "report__usascii_latin1_bytes.eml": {
        "external_id": "4B2A1C0D.3040506@telkom.net.id",
        "sender_id": "paguyuban.rt01@telkom.net.id",
        "display_name": "Paguyuban RT 01",
        "contact": "paguyuban.rt01@telkom.net.id",
        "subject": "Limbah minyak dibuang ke selokan",
        "sent_at": "2026-11-23T16:29:51+07:00",
        "text": (
            'Warung makan "Café Sederhana" di Jl. Pemuda – depan Alun-alun – membuang '
            "limbah minyak ke selokan. Baunya sampai ke rumah warga.\n"
            "\n"
            "Hormat kami,\n"
            "Paguyuban Warga RT 01"
        ),
        "reply_to": None,
        "references": (),
        "forwarded": False,
        "parse_error": "body declared 'us-ascii' but was cp1252",
        "attachments": [],
    },
    "report__yahoo_android_reply.eml": {
        "external_id": "1698712345.2345678.1700000000000@mail.yahoo.com",
        "sender_id": "hendra_kusuma@yahoo.co.id",
        "display_name": "Hendra Kusuma",
        "contact": "hendra_kusuma@yahoo.co.id",
        "subject": "Re: Sampah menumpuk di Pasar Puri [LBP-2026-00017]",
        "sent_at": "2026-11-23T06:29:58+00:00",
        "text": "Sampai hari ini sampahnya belum diangkut juga. Baunya sudah sangat menyengat.",
        "reply_to": "9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d@kanal.kanal.test",
        "references": (
            "1111aaaa2222bbbb3333cccc4444dddd@kanal.kanal.test",
            "9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d@kanal.kanal.test",
        ),
        "forwarded": False,
        "parse_error": None,
        "attachments": [],
    },
}


def test_every_fixture_is_expected_and_every_expectation_has_a_fixture() -> None:
    assert sorted(f.name for f in FILES) == sorted(EXPECTED)


def test_every_event_kind_has_a_fixture_and_fixtures_are_named_by_event() -> None:
    prefixes = {f.name.split("__", 1)[0] for f in FILES}
    assert prefixes == set(EVENTS)
    assert all("__" in f.name for f in FILES)


@pytest.mark.parametrize("path", FILES, ids=[f.name for f in FILES])
def test_parse_fixture(path: Path, tmp_path: Path) -> None:
    raw = path.read_bytes()
    item = parse_email(raw, context(tmp_path), extra={"uid": 7})
    expected = EXPECTED[path.name]
    event = EVENTS[path.name.split("__", 1)[0]]
    if event != "message":
        assert isinstance(item, UnsupportedEvent)
        assert (item.channel, item.account) == ("email", "aduan@kanal.test")
        assert item.kind == event == expected["kind"]
        assert item.external_id == expected["external_id"]
        assert item.reason == expected["reason"]
        assert item.raw["uid"] == 7
        assert item.raw["headers"]["Message-ID"].strip("<>") == item.external_id
        return
    assert isinstance(item, InboundMessage)
    assert (item.channel, item.account) == ("email", "aduan@kanal.test")
    assert item.external_id == expected["external_id"]
    assert item.sender_id == expected["sender_id"]
    assert item.display_name == expected["display_name"]
    assert item.contact == expected["contact"]
    assert item.subject == expected["subject"]
    assert item.sent_at.isoformat() == expected["sent_at"]
    assert item.text == expected["text"]
    assert item.reply_to == expected["reply_to"]
    assert item.references == expected["references"]
    assert item.forwarded == expected["forwarded"]
    assert item.parse_error == expected["parse_error"]
    got = [(a.kind.value, a.mime_type, a.file_name, a.size, a.media_ref) for a in item.attachments]
    assert got == expected["attachments"]
    for attachment in item.attachments:
        assert attachment.stored_path is not None
        assert attachment.stored_path.startswith("media/email/")
        stored = (tmp_path / attachment.stored_path).read_bytes()
        assert len(stored) == attachment.size
        assert hashlib.sha256(stored).hexdigest() == attachment.sha256
    assert item.raw["uid"] == 7
    assert item.raw["headers"]["Subject"] == item.subject
    assert item.text in item.raw["full_text"] or item.forwarded
    assert (tmp_path / item.raw["eml_path"]).read_bytes() == raw


def test_message_without_message_id_is_identified_by_its_bytes(tmp_path: Path) -> None:
    raw = (FIXTURES / "report__no_message_id.eml").read_bytes()
    first = parse_email(raw, context(tmp_path))
    again = parse_email(raw, context(tmp_path))
    changed = parse_email(raw.replace(b"bocor", b"rusak"), context(tmp_path))
    assert first.external_id == again.external_id == "sha256:" + hashlib.sha256(raw).hexdigest()
    assert changed.external_id != first.external_id


def test_photo_sent_twice_is_stored_once_on_disk(tmp_path: Path) -> None:
    ctx = context(tmp_path)
    raw = (FIXTURES / "report__android_gmail_pdf_photo.eml").read_bytes()
    first = parse_email(raw, ctx)
    second = parse_email(raw, ctx)
    assert isinstance(first, InboundMessage) and isinstance(second, InboundMessage)
    assert [a.stored_path for a in first.attachments] == [a.stored_path for a in second.attachments]
    pdf = next((tmp_path / "media" / "email").rglob("*.pdf"))
    assert pdf.read_bytes().startswith(b"%PDF-1.4")


def test_garbage_bytes_still_become_a_message_with_a_parse_error(tmp_path: Path) -> None:
    raw = b"\x00\xff\xfe garbage \x80\x81 without headers\r\n\r\n\xc3\x28"
    item = parse_email(raw, context(tmp_path))
    assert isinstance(item, InboundMessage)
    assert item.external_id == "sha256:" + hashlib.sha256(raw).hexdigest()
    assert item.sender_id == "unknown"
    assert item.sent_at == NOW
    assert item.parse_error == "no sender address; undecodable bytes replaced"
    assert "\x00" not in item.text


def test_bounce_of_our_reply_also_reports_its_failed_delivery(tmp_path: Path) -> None:
    raw = (FIXTURES / "bounce__gmail_dsn.eml").read_bytes()
    bounce, status = parse_mail(raw, context(tmp_path), received_at=NOW, extra={"uid": 3})
    assert isinstance(bounce, UnsupportedEvent) and bounce.kind == "bounce"
    assert status == DeliveryStatus(
        channel="email",
        account="aduan@kanal.test",
        platform_message_id="aa11bb22cc33dd44ee55ff6600112233@kanal.kanal.test",
        state=DeliveryState.FAILED,
        at=NOW,
        error_code="5.1.1",
        error_message=("smtp; 550-5.1.1 The email account that you tried to reach does not exist."),
        raw={"uid": 3, "bounce": bounce.external_id, "recipient": "salah.ketik@gmial.com"},
    )


def test_bounce_without_a_report_or_of_foreign_mail_is_only_a_bounce(tmp_path: Path) -> None:
    plain = (FIXTURES / "bounce__postmaster_plain.eml").read_bytes()
    foreign = (
        (FIXTURES / "bounce__gmail_dsn.eml")
        .read_bytes()
        .replace(b"@kanal.kanal.test>", b"@elsewhere.example>")
    )
    for raw in (plain, foreign):
        [item] = parse_mail(raw, context(tmp_path))
        assert isinstance(item, UnsupportedEvent) and item.kind == "bounce"


def test_oversized_ids_and_addresses_fit_the_store(tmp_path: Path) -> None:
    long_id = "x" * 600 + "@mail.id"
    long_name = "Warga " * 80
    raw = (
        f"From: {long_name}<warga@mail.id>\r\nTo: aduan@kanal.test\r\nSubject: Panjang\r\n"
        f"Message-ID: <{long_id}>\r\nIn-Reply-To: <{long_id}>\r\n\r\nIsi.\r\n"
    ).encode()
    item = parse_email(raw, context(tmp_path))
    hashed = "sha256:" + hashlib.sha256(long_id.encode()).hexdigest()
    assert (item.external_id, item.reply_to) == (hashed, hashed)
    assert len(item.display_name) == 320
