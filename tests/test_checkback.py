"""Which replies after a resolve answer "is it fixed, how satisfied are you?", pure."""

from __future__ import annotations

import pytest

from triage.checkback import CheckBack, checkback_answer, checkback_choice, choices


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


def test_the_buttons_fit_whatsapp_in_both_languages() -> None:
    for locale in ("id", "en"):
        buttons = choices(locale)
        assert len(buttons) == 3
        assert all(0 < len(b.title) <= 20 for b in buttons)
    assert [b.title for b in choices("id")] == [
        "Sudah beres, puas",
        "Beres, tidak puas",
        "Belum beres",
    ]


@pytest.mark.parametrize(
    ("choice", "fixed", "rating"),
    [
        ("checkback:pleased", True, 4),
        ("checkback:displeased", True, 2),
        ("checkback:not_fixed", False, None),
    ],
)
def test_a_pressed_button_is_read_by_its_id(choice: str, fixed: bool, rating: int | None) -> None:
    # The title is kept as the reporter's words, whatever language it was in.
    assert checkback_choice(choice, "Any title ") == CheckBack(fixed, rating, "Any title")


def test_a_button_kanal_did_not_offer_is_no_answer() -> None:
    assert checkback_choice("callback_data", "title") is None
    assert checkback_choice(None, "Sudah beres, puas") is None
