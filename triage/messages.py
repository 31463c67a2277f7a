"""Every text Kanal sends to reporters (and the triage hints operators read), in id and en."""

from __future__ import annotations

import string
from collections.abc import Sequence
from datetime import datetime, tzinfo
from typing import Any

LOCALES = ("id", "en")

# key -> locale -> template. Placeholders: {number} ticket number, {region} e.g. "Kabupaten
# Pati", {opd} department name, {deadline} a date from format_due, {original} the ticket a
# duplicate was merged into, {items} the list built by clarification(), {places}, {score}.
MESSAGES: dict[str, dict[str, str]] = {
    "received": {
        "id": "Terima kasih, laporan Anda sudah kami terima dengan nomor {number}. Simpan nomor "
        "ini untuk menanyakan perkembangannya. Petugas kami akan memeriksanya paling lambat "
        "{deadline}.",
        "en": "Thank you, we have received your report as number {number}. Keep this number to "
        "ask about its progress. Our staff will review it by {deadline}.",
    },
    "clarify": {
        "id": "Laporan {number}: agar dapat kami tindak lanjuti, mohon lengkapi:\n{items}\n"
        "Cukup balas pesan ini paling lambat {deadline}. Bila tidak ada balasan, laporan akan "
        "kami tutup.",
        "en": "Report {number}: so that we can act on it, please send us:\n{items}\n"
        "Just reply to this message by {deadline}. Without a reply the report will be closed.",
    },
    "clarify.location": {
        "id": "lokasi kejadian: kirim lokasi (share location) atau tulis alamat lengkap "
        "(jalan/dukuh, desa, kecamatan)",
        "en": "the location: share your location or write the full address (street or hamlet, "
        "village, sub-district)",
    },
    "clarify.photo": {
        "id": "foto atau video yang menunjukkan masalahnya",
        "en": "a photo or video showing the problem",
    },
    "clarify.supporting_data": {
        "id": "data pendukung, misalnya nomor KTP/KK, nomor pelanggan, atau dokumen terkait",
        "en": "supporting details, such as an ID or family card number, a customer number or "
        "the related documents",
    },
    "clarify.event_time": {
        "id": "waktu kejadian (tanggal dan jam, atau sejak kapan)",
        "en": "when it happened (date and time, or since when)",
    },
    "reject.not_factual": {
        "id": "Laporan {number} tidak dapat kami tindak lanjuti karena belum dapat dibuktikan "
        "kebenarannya. Anda dapat melapor kembali dengan data, foto dan lokasi yang jelas.",
        "en": "We cannot act on report {number} because its facts could not be confirmed. You "
        "are welcome to report again with clear details, photos and the location.",
    },
    "reject.out_of_jurisdiction": {
        "id": "Laporan {number} berada di luar wilayah {region}, sehingga bukan kewenangan kami. "
        "Silakan sampaikan kepada pemerintah daerah setempat atau melalui SP4N-LAPOR! "
        "(lapor.go.id).",
        "en": "Report {number} concerns a place outside {region}, so it is not ours to handle. "
        "Please contact the local government there or SP4N-LAPOR! (lapor.go.id).",
    },
    "reject.not_government_affairs": {
        "id": "Laporan {number} bukan urusan pemerintah daerah {region}, sehingga tidak dapat "
        "kami tindak lanjuti.",
        "en": "Report {number} is not a matter for the {region} government, so we cannot act "
        "on it.",
    },
    "reject.private_matter": {
        "id": "Laporan {number} merupakan masalah pribadi/perdata antarwarga, sehingga tidak "
        "dapat kami tangani. Untuk sengketa, Anda dapat menempuh musyawarah atau jalur hukum.",
        "en": "Report {number} is a private matter between residents, which we cannot handle. "
        "Disputes can be settled by mediation or through the courts.",
    },
    "reject.spam": {
        "id": "Pesan {number} tidak kami proses karena bukan laporan atau pengaduan.",
        "en": "Message {number} was not processed because it is not a report or complaint.",
    },
    "reminder.no_response": {
        "id": "Pengingat: laporan {number} masih menunggu balasan Anda. Bila tidak ada balasan "
        "sampai {deadline}, laporan akan kami tutup.",
        "en": "Reminder: report {number} is still waiting for your reply. Without a reply by "
        "{deadline}, the report will be closed.",
    },
    "closed.no_response": {
        "id": "Laporan {number} kami tutup karena belum ada balasan. Bila masalahnya masih ada, "
        "silakan kirim laporan baru lewat saluran ini, lengkap dengan lokasi dan foto.",
        "en": "Report {number} has been closed because we received no reply. If the problem "
        "remains, please send a new report on this channel with the location and a photo.",
    },
    "merged": {
        "id": "Laporan {number} sama dengan laporan {original} yang sudah kami tangani. Pantau "
        "perkembangannya dengan nomor {original}.",
        "en": "Report {number} is the same as report {original}, which we are already handling. "
        "Follow its progress with number {original}.",
    },
    "forwarded": {
        "id": "Laporan {number} sudah kami teruskan ke {opd} untuk ditindaklanjuti. Tanggapan "
        "dijadwalkan paling lambat {deadline}.",
        "en": "Report {number} has been forwarded to {opd} for action. An answer is due by "
        "{deadline}.",
    },
    "resolved": {
        "id": "Laporan {number} sudah selesai ditindaklanjuti. Terima kasih atas kepedulian Anda "
        "untuk {region}. Bila masalahnya belum beres, balas pesan ini.",
        "en": "Report {number} has been resolved. Thank you for caring about {region}. If the "
        "problem is not fixed, reply to this message.",
    },
    # Hints for operators, shown beside a ticket.
    "operator.jurisdiction.point_outside": {
        "id": "Lokasi yang dikirim berada di luar batas wilayah {region}.",
        "en": "The location sent is outside the boundary of {region}.",
    },
    "operator.jurisdiction.names_outside": {
        "id": "Laporan menyebut tempat di luar {region} ({places}) dan tidak menyebut tempat di "
        "dalam wilayah.",
        "en": "The report names places outside {region} ({places}) and none inside.",
    },
    "operator.day_off.weekend": {"id": "akhir pekan", "en": "weekend"},
    "operator.day_off.extra": {
        "id": "cuti bersama / libur daerah",
        "en": "collective leave / local day off",
    },
    "operator.duplicate": {
        "id": "Kemungkinan sama dengan laporan {original} (kemiripan {score}).",
        "en": "Probably the same as report {original} (similarity {score}).",
    },
}

_DAYS = {
    "id": ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
_MONTHS = {
    "id": (
        "Januari",
        "Februari",
        "Maret",
        "April",
        "Mei",
        "Juni",
        "Juli",
        "Agustus",
        "September",
        "Oktober",
        "November",
        "Desember",
    ),
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}


class MissingValue(KeyError):
    """A template needs a placeholder value the caller did not give."""


def placeholders(key: str, locale: str = "id") -> frozenset[str]:
    """The names a template needs."""
    template = _template(key, locale)
    return frozenset(name for _, name, _, _ in string.Formatter().parse(template) if name)


def render(key: str, locale: str = "id", **values: Any) -> str:
    """The text of `key` in `locale` with its placeholders filled; extra values are ignored."""
    missing = sorted(placeholders(key, locale) - values.keys())
    if missing:
        raise MissingValue(f"message {key!r} needs {', '.join(missing)}")
    return _template(key, locale).format(**values)


def clarification(facts: Sequence[str], locale: str = "id", **values: Any) -> str:
    """One request for all of `facts` ("location", "photo", "supporting_data", "event_time")."""
    if not facts:
        raise ValueError("no facts to ask for")
    items = "\n".join(f"{i}. {render('clarify.' + f, locale)}" for i, f in enumerate(facts, 1))
    return render("clarify", locale, **values, items=items)


def format_due(moment: datetime, tz: tzinfo, locale: str = "id") -> str:
    """A deadline as reporters read it: "Kamis, 26 November 2026 pukul 23.59 WIB"."""
    local = moment.astimezone(tz)
    day, month = _DAYS[locale][local.weekday()], _MONTHS[locale][local.month - 1]
    zone = local.tzname() or ""
    if locale == "id":
        return f"{day}, {local.day} {month} {local.year} pukul {local:%H.%M} {zone}".rstrip()
    return f"{day} {local.day} {month} {local.year}, {local:%H:%M} {zone}".rstrip()


def _template(key: str, locale: str) -> str:
    if locale not in LOCALES:
        raise ValueError(f"unknown locale {locale!r} (known: {', '.join(LOCALES)})")
    try:
        return MESSAGES[key][locale]
    except KeyError:
        raise KeyError(f"no message {key!r}") from None
