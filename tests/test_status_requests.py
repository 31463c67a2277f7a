"""Which messages only ask how a report stands, pure."""

from __future__ import annotations

import pytest

from triage.status_requests import StatusRequest, status_request


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("LBP-2026-00012", ("LBP-2026-00012",)),
        ("lbp-2026-00012", ("LBP-2026-00012",)),
        ("cek", ()),
        ("CEK status laporan saya", ()),
        ("Status laporan LBP-2026-00012?", ("LBP-2026-00012",)),
        ("cek LBP-2026-00012 LBP-2026-00013", ("LBP-2026-00012", "LBP-2026-00013")),
        ("Gimana perkembangan laporan saya min?", ()),
    ],
)
def test_status_requests(text: str, numbers: tuple[str, ...]) -> None:
    assert status_request(text, "LBP") == StatusRequest(numbers)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "laporan",  # asks nothing
        "LBP-2026-00012 masih rusak",  # news about the report
        "Tolong cek jalan di Desa Sukolilo",
        "Status jalan rusak belum diperbaiki",
        "terima kasih",
    ],
)
def test_anything_more_is_not_a_status_request(text: str) -> None:
    assert status_request(text, "LBP") is None


def test_a_photo_or_a_location_is_news_even_with_the_word_cek() -> None:
    assert status_request("cek", "LBP", has_media=True) is None
    assert status_request("LBP-2026-00012", "LBP", has_location=True) is None
