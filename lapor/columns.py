"""SP4N-LAPOR!'s export format: its columns, its Indonesian dates and its report statuses."""

from __future__ import annotations

import re
from datetime import date, datetime, time

TRACKING_ID = "Tracking ID"
DATE = "Tanggal Laporan Masuk"
TIME = "Waktu Laporan Masuk"
REPORTER = "Nama Pelapor"
CLASSIFICATION = "Klasifikasi Laporan"
CATEGORY_ID = "ID Kategori"
CATEGORY = "Kategori"
TITLE = "Judul Laporan"
FIRST_TEXT = "Isi Laporan Awal"
LAST_TEXT = "Isi Laporan Akhir"
PRIVACY = "Tipe Laporan (Anonim/Rahasia)"
SOURCE = "Sumber Laporan"
PARENT_AGENCY = "Instansi Induk"
AGENCY_ID = "ID Instansi Terdisposisi"
AGENCY = "Instansi Terdisposisi"
STATUS = "Status Laporan"
HOLD_REASON = "Alasan Tunda/Arsip"
PROVINCE = "Provinsi"
REGENCY = "Kota/Kabupaten"
DISTRICT = "Kecamatan"
VILLAGE = "Kelurahan"

# In the platform's order; an export has all of them, in any order.
COLUMNS = (
    TRACKING_ID,
    DATE,
    TIME,
    REPORTER,
    CLASSIFICATION,
    CATEGORY_ID,
    CATEGORY,
    TITLE,
    FIRST_TEXT,
    LAST_TEXT,
    PRIVACY,
    SOURCE,
    PARENT_AGENCY,
    AGENCY_ID,
    AGENCY,
    STATUS,
    HOLD_REASON,
    PROVINCE,
    REGENCY,
    DISTRICT,
    VILLAGE,
)
REQUIRED = (TRACKING_ID, DATE, FIRST_TEXT, STATUS)

# Reports whose reporter's identity must not be kept: LAPOR! shows no name for them.
HIDDEN_IDENTITY = frozenset({"anonim", "rahasia"})

# Indonesian month abbreviations as the platform writes them, and the full names.
MONTHS = {
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "mei": 5,
    "jun": 6,
    "jul": 7,
    "agu": 8,
    "agt": 8,
    "agus": 8,
    "sep": 9,
    "sept": 9,
    "okt": 10,
    "nov": 11,
    "nop": 11,
    "des": 12,
    "januari": 1,
    "februari": 2,
    "maret": 3,
    "april": 4,
    "juni": 6,
    "juli": 7,
    "agustus": 8,
    "september": 9,
    "oktober": 10,
    "november": 11,
    "desember": 12,
}
MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des")
_DATE = re.compile(r"^\s*(\d{1,2})[\s-]+([A-Za-z]+)\.?[\s-]+(\d{4})\s*$")
_TIME = re.compile(r"^\s*(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?\s*(?:WIB|WITA|WIT)?\s*$")

# The platform's report statuses and the ticket status each becomes.
STATUSES = {
    "belum terverifikasi": "new",
    "belum ditindaklanjuti": "new",
    "terverifikasi": "new",
    "diteruskan": "forwarded",
    "didisposisikan": "forwarded",
    "proses": "in_progress",
    "sedang diproses": "in_progress",
    "ditindaklanjuti": "in_progress",
    "ditunda": "clarifying",
    "selesai": "resolved",
    "arsip": "closed",
    "diarsipkan": "closed",
}
# What `lapor export` writes for each ticket status.
EXPORT_STATUS = {
    "new": "Belum Terverifikasi",
    "clarifying": "Ditunda",
    "forwarded": "Diteruskan",
    "in_progress": "Proses",
    "resolved": "Selesai",
    "closed": "Arsip",
}


def parse_date(value: object) -> date:
    """ "5 Jan 2024", "05-Agt-2024", "5 Agustus 2024", an ISO date, or a spreadsheet's date."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value or "").strip()
    match = _DATE.match(text)
    if match:
        day, month, year = match.groups()
        number = MONTHS.get(month.lower())
        if number is None:
            raise ValueError(f"unknown month {month!r}")
        return date(int(year), number, int(day))
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise ValueError(f"not a date: {text!r} (write it like 5 Jan 2024)") from None


def parse_time(value: object) -> time:
    """ "09:30", "09.30.15 WIB", a spreadsheet's time; empty is midnight."""
    if isinstance(value, datetime):
        return value.time()
    if isinstance(value, time):
        return value
    text = str(value or "").strip()
    if not text:
        return time(0, 0)
    match = _TIME.match(text)
    if not match:
        raise ValueError(f"not a time: {text!r} (write it like 09:30)")
    hour, minute, second = match.groups()
    return time(int(hour), int(minute), int(second or 0))


def format_date(day: date) -> str:
    return f"{day.day} {MONTH_NAMES[day.month - 1]} {day.year}"
