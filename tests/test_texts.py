"""The text catalog: every key in Bahasa Indonesia and English with the same placeholders, and
numbers and dates written the way each language writes them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from channels.base import Notice
from channels.texts import channel_texts, channel_texts_by_locale
from texts.catalog import LOCALES, MissingValue, catalog, fill, known_locale, placeholders, section
from texts.formats import clock, decimal, due_time, long_date, month_name, percent, short_time
from texts.notices import notice_text

JAKARTA = ZoneInfo("Asia/Jakarta")
ROOT = Path(__file__).resolve().parents[1]
SOURCE = ("channels", "inbox", "notifier", "store", "texts", "triage")


def test_both_languages_have_the_same_keys() -> None:
    indonesian, english = catalog("id").keys(), catalog("en").keys()
    assert sorted(indonesian - english) == []
    assert sorted(english - indonesian) == []


@pytest.mark.parametrize("key", sorted(catalog("id")))
def test_both_languages_use_the_same_placeholders(key: str) -> None:
    assert placeholders(catalog("id")[key]) == placeholders(catalog("en")[key])
    assert catalog("id")[key].strip() and catalog("en")[key].strip()


def test_every_part_of_kanal_has_its_texts() -> None:
    for part in ("format", "inbox", "messages", "notifier", "notices", "channels.whatsapp",
                 "channels.meta_parse", "channels.meta_send", "channels.telegram"):  # fmt: skip
        assert section(part, "id"), part
    assert catalog("id")["messages.received"].startswith("Terima kasih, laporan Anda")
    assert catalog("en")["inbox.nav.queue"] == "Queue"


def test_channels_read_their_part_of_the_catalog() -> None:
    assert channel_texts("whatsapp") == section("channels.whatsapp", "id")
    assert channel_texts("meta_send", "en") == section("channels.meta_send", "en")
    greeting = channel_texts_by_locale("telegram")["start"]
    assert greeting == {
        "id": catalog("id")["channels.telegram.start"],
        "en": catalog("en")["channels.telegram.start"],
    }


@pytest.mark.parametrize("locale", LOCALES)
def test_every_notice_a_channel_gives_has_its_words(locale: str) -> None:
    assert sorted(section("notices", locale)) == sorted(code.value for code in Notice)
    assert notice_text("unsupported_kind", "Telegram", {"kind": "poll"}, "id") == (
        '[Pesan Telegram jenis "poll" belum dapat ditampilkan di Kanal; isi aslinya tersimpan]'
    )
    assert notice_text("retracted", "X", None, locale) == "[retracted]"  # unknown: never hidden


def test_fill_names_what_is_missing() -> None:
    assert fill("{n} laporan", "inbox 'queue.total'", {"n": 3, "extra": 1}) == "3 laporan"
    with pytest.raises(MissingValue, match=r"inbox 'queue\.total' needs n"):
        fill("{n} laporan", "inbox 'queue.total'", {})
    with pytest.raises(ValueError, match="unknown locale 'fr'"):
        catalog("fr")
    assert (known_locale("fr"), known_locale(None), known_locale("en")) == ("id", "id", "en")
    assert LOCALES == ("id", "en")


def test_numbers_and_percentages_per_locale() -> None:
    assert (decimal(0.753, "id"), decimal(0.753, "en")) == ("0,753", "0.753")
    assert (decimal(1234.5, "id"), decimal(1234.5, "en")) == ("1.234,5", "1,234.5")
    assert (decimal(26.25, "id", "0.0"), decimal(3, "en", "0.0")) == ("26,2", "3.0")
    assert decimal(None, "id") == ""
    assert (percent(0.23, "id"), percent(0.234, "en")) == ("23%", "23%")
    assert decimal(0.5, "fr") == "0,5"  # an unknown locale reads Indonesian


def test_dates_per_locale_in_the_region_time_zone() -> None:
    moment = datetime(2026, 12, 6, 2, 30, tzinfo=UTC)
    assert short_time(moment, JAKARTA, "id") == "6 Des 2026 09.30 WIB"
    assert short_time(moment, JAKARTA, "en") == "6 Dec 2026 09:30 WIB"
    assert due_time(moment, JAKARTA, "id") == "Minggu, 6 Desember 2026 pukul 09.30 WIB"
    assert due_time(moment, JAKARTA, "en") == "Sunday 6 December 2026, 09:30 WIB"
    assert clock(moment.astimezone(ZoneInfo("Asia/Jayapura")), "id") == "11.30 WIT"
    assert long_date(date(2026, 8, 17), "id") == "Senin, 17 Agustus 2026"
    assert long_date(date(2026, 8, 17), "en") == "Monday 17 August 2026"
    assert (month_name(date(2026, 2, 1), "id"), month_name(date(2026, 2, 1), "en")) == (
        "Februari",
        "February",
    )


def test_month_names_come_only_from_babel() -> None:
    spelled = [
        str(path.relative_to(ROOT))
        for folder in SOURCE
        for path in (ROOT / folder).rglob("*")
        if path.suffix in {".py", ".toml", ".j2", ".html"}
        and "Desember" in path.read_text(encoding="utf-8")
    ]
    assert spelled == []
