"""The texts sent to reporters: every template renders in id and en with its placeholders."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from triage.messages import (
    LOCALES,
    MESSAGES,
    MissingValue,
    clarification,
    format_due,
    placeholders,
    render,
)

VALUES = {
    "number": "LBP-2026-00042",
    "region": "Kabupaten Pati",
    "opd": "Dinas Pekerjaan Umum dan Penataan Ruang",
    "deadline": "Kamis, 26 November 2026 pukul 23.59 WIB",
    "original": "LBP-2026-00007",
    "items": "1. foto",
    "places": "Kudus",
    "score": "0.82",
    "links": "- foto.jpg: https://aduan.example/files/1/abc",
    "names": "foto.jpg, surat.pdf",
}
REJECTIONS = [
    "not_factual",
    "out_of_jurisdiction",
    "not_government_affairs",
    "private_matter",
    "spam",
]
FACTS = ["location", "photo", "supporting_data", "event_time"]


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_every_template_renders(key: str, locale: str) -> None:
    text = render(key, locale, **VALUES)
    assert "{" not in text and "}" not in text
    for name in placeholders(key, locale):
        assert VALUES[name] in text


@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_both_languages_use_the_same_placeholders(key: str) -> None:
    assert placeholders(key, "id") == placeholders(key, "en")


def test_the_required_messages_exist() -> None:
    required = (
        [f"clarify.{fact}" for fact in FACTS]
        + [f"reject.{reason}" for reason in REJECTIONS]
        + ["closed.no_response", "reminder.no_response", "merged", "forwarded", "resolved"]
    )
    assert set(required) <= MESSAGES.keys()
    assert placeholders("merged") == {"number", "original"}
    assert placeholders("forwarded") == {"number", "opd", "deadline"}
    assert placeholders("reject.out_of_jurisdiction") == {"number", "region"}


def test_missing_placeholder_raises() -> None:
    with pytest.raises(MissingValue, match="'merged' needs original"):
        render("merged", number="LBP-2026-00042")


def test_unknown_key_or_locale_raises() -> None:
    with pytest.raises(KeyError, match="no message 'nope'"):
        render("nope")
    with pytest.raises(ValueError, match="unknown locale 'jv'"):
        render("reject.spam", "jv", number="X")


def test_texts() -> None:
    assert render("merged", number="LBP-2026-00042", original="LBP-2026-00007") == (
        "Laporan LBP-2026-00042 sama dengan laporan LBP-2026-00007 yang sedang kami tangani,"
        " sehingga kami gabungkan. Kami akan mengabari Anda bila laporan itu selesai. Untuk"
        " menanyakan perkembangannya, kirim nomor LBP-2026-00042 atau ketik CEK."
    )
    assert render("reject.spam", "en", number="LBP-2026-00001") == (
        "Message LBP-2026-00001 was not processed because it is not a report or complaint."
    )


def test_one_clarification_asks_for_several_facts() -> None:
    text = clarification(["location", "photo"], number="LBP-2026-00042", deadline="besok")
    assert text == (
        "Laporan LBP-2026-00042: agar dapat kami tindak lanjuti, mohon lengkapi:\n"
        "1. lokasi kejadian: kirim lokasi (share location) atau tulis alamat lengkap "
        "(jalan/dukuh, desa, kecamatan)\n"
        "2. foto atau video yang menunjukkan masalahnya\n"
        "Cukup balas pesan ini paling lambat besok. Bila tidak ada balasan, laporan akan kami "
        "tutup."
    )
    english = clarification(["event_time"], "en", number="N", deadline="tomorrow")
    assert "1. when it happened (date and time, or since when)\n" in english
    with pytest.raises(ValueError):
        clarification([], number="N", deadline="x")
    with pytest.raises(KeyError):
        clarification(["mood"], number="N", deadline="x")


def test_format_due() -> None:
    due = datetime(2026, 11, 26, 16, 59, 59, 999999, tzinfo=UTC)
    wib = ZoneInfo("Asia/Jakarta")
    assert format_due(due, wib) == "Kamis, 26 November 2026 pukul 23.59 WIB"
    assert format_due(due, wib, "en") == "Thursday 26 November 2026, 23:59 WIB"
