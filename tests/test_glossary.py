"""The glossary (docs/glossary.md) holds: no Bahasa Indonesia text a person reads uses a word
the glossary says to avoid."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# Texts where an avoided word is right: the sample reports' own words, platform texts quoting
# the platform.
EXEMPT = ("channels.", "messages.clarify.supporting_data")


def avoided() -> list[str]:
    rows = [
        line.split("|")
        for line in (REPO / "docs" / "glossary.md").read_text().splitlines()
        if line.startswith("| ") and not line.startswith("| thing") and "---" not in line
    ]
    return [word.strip() for row in rows for word in row[4].split(",") if word.strip()]


def flatten(table: dict, prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in table.items():
        if isinstance(value, dict):
            flat |= flatten(value, f"{prefix}{key}.")
        else:
            flat[prefix + key] = value
    return flat


def indonesian_texts() -> dict[str, str]:
    texts = flatten(tomllib.loads((REPO / "texts" / "id.toml").read_text()))
    texts = {
        k: v for k, v in texts.items() if not k.startswith(EXEMPT) and not k.startswith("format.")
    }
    # The digest and alerts as staff read them: the notifier templates' saved Indonesian
    # renderings (tests/test_notifier_templates.py keeps them equal to the templates' output).
    for rendered in sorted((REPO / "tests" / "fixtures" / "notifier" / "id").iterdir()):
        texts[f"notifier, {rendered.name}"] = rendered.read_text()
    return texts


def test_the_glossary_lists_words_to_avoid() -> None:
    assert {"tiket", "Saring", "Email", "Supervisor", "system"} <= set(avoided())


def test_no_indonesian_text_uses_an_avoided_word() -> None:
    found = []
    for word in avoided():
        # Whole words only; case-sensitive for labels that are capitalised ("Email", "Saring").
        flags = 0 if word[0].isupper() else re.IGNORECASE
        pattern = re.compile(rf"(?<![\w-]){re.escape(word)}(?![\w-])", flags)
        found += [(key, word) for key, text in indonesian_texts().items() if pattern.search(text)]
    assert found == []


def test_the_delivery_states_are_whatsapps_words() -> None:
    texts = flatten(tomllib.loads((REPO / "texts" / "id.toml").read_text()))
    states = {
        k.removeprefix("inbox.delivery."): v
        for k, v in texts.items()
        if k.startswith("inbox.delivery.")
    }
    assert (states["sent"], states["delivered"], states["read"]) == (
        "terkirim",
        "diterima",
        "dibaca",
    )
