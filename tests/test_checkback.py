"""Which replies after a resolve answer "is it fixed, how satisfied are you?", pure."""

from __future__ import annotations

import pytest

from triage.checkback import CheckBack, checkback_answer


@pytest.mark.parametrize(
    ("text", "fixed", "rating"),
    [
        ("sudah", True, None),
        ("SUDAH 5", True, 5),
        ("Sudah beres pak, puas", True, None),
        ("4", None, 4),
        ("terima kasih, nilai 5", True, 5),
        ("belum", False, None),
        ("Belum, lubangnya masih ada 2", False, 2),
        ("tidak puas 1", False, 1),
        ("masih bocor", False, None),
    ],
)
def test_answers(text: str, fixed: bool | None, rating: int | None) -> None:
    assert checkback_answer(text) == CheckBack(fixed, rating, text)


@pytest.mark.parametrize(
    "text",
    ["", "Lampu di jalan lain juga mati", "sudah 3 4", "7", "ok", "cek"],
)
def test_anything_else_is_not_an_answer(text: str) -> None:
    assert checkback_answer(text) is None


def test_a_photo_is_news_unless_it_says_not_fixed() -> None:
    assert checkback_answer("sudah", has_media=True) is None
    assert checkback_answer("belum", has_media=True) == CheckBack(False, None, "belum")
