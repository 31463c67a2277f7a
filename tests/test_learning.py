"""Suggestions learn from operators: the classifier, its blend with the keywords, and the whole
loop through the store (verify in the API, retrain, the next report's suggestion moves)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from api_client import OPDS, Api, report, running_api
from triage.blend import BlendedSuggester, LearnedModels, model_weight
from triage.config import CategoryConfig, OpdConfig
from triage.learner import TextModel, features
from triage.learning import labelled_examples, retrain
from triage.suggest import Suggester

CATEGORIES = [
    CategoryConfig(code="jalan", name="Jalan", opd="pupr", keywords=["jalan"]),
    CategoryConfig(code="pju", name="Penerangan jalan", opd="dishub", keywords=["lampu"]),
    CategoryConfig(code="bencana", name="Bencana", opd="bpbd", keywords=["banjir"]),
]
FALLEN_TREE = "Pohon besar tumbang menutup jalan desa, warga tidak bisa lewat"
POTHOLE = "Jalan desa berlubang dalam, motor sering jatuh"


def test_features_keep_negation_and_word_pairs() -> None:
    assert features("Air PDAM tidak mengalir di depan SD 2") == [
        "air",
        "pdam",
        "!alir",
        "air pdam",
        "pdam !alir",
    ]


def test_the_model_learns_from_counts_and_says_which_words_weighed() -> None:
    model = TextModel.train([(FALLEN_TREE, "bencana")] * 3 + [(POTHOLE, "jalan")] * 3)
    found = model.probabilities("pohon tumbang di jalan")
    assert found["bencana"] > 0.9
    # Words only fallen trees had, tied, alphabetical; "jalan" is in both labels' examples
    # and the pair "pohon tumbang" in neither ("pohon besar tumbang").
    assert model.evidence("pohon tumbang di jalan", "bencana") == ["pohon", "tumbang"]
    assert TextModel.from_json(model.as_json()).probabilities("pohon tumbang") == (
        model.probabilities("pohon tumbang")
    )


def test_cold_start_is_the_keywords_alone() -> None:
    keywords = Suggester(CATEGORIES)
    blended = BlendedSuggester(keywords, CATEGORIES, LearnedModels.empty())
    assert blended.suggest(FALLEN_TREE) == keywords.suggest(FALLEN_TREE)
    assert model_weight(0, 3) == 0


def test_the_models_weight_grows_with_examples() -> None:
    assert model_weight(15, 3) == 0.5  # five examples per category weigh as much as keywords
    assert model_weight(150, 3) > 0.9


@pytest.fixture
async def api(database_url: str, tmp_path: Path, clock) -> AsyncIterator[Api]:
    opds = [*OPDS, OpdConfig(code="bpbd", name="Badan Penanggulangan Bencana Daerah")]
    async with running_api(database_url, tmp_path, clock, category=CATEGORIES, opd=opds) as api:
        yield api


async def suggestions(api: Api, number: str) -> list[dict[str, Any]]:
    async with asyncio.timeout(10):
        while True:
            flags = (await api.get(f"/api/tickets/{number}"))[1]["flags"]
            if "suggestions" in flags:
                return flags["suggestions"]
            await asyncio.sleep(0.02)


async def test_verified_tickets_move_the_next_suggestion(api: Api) -> None:
    """Operators keep filing fallen trees on roads as disasters: after 30 such verified tickets
    (and 30 potholes as roads) the retrain makes the next fallen tree a disaster, saying why."""
    runtime = api.runtime
    await runtime.intake.submit([report(1, text=FALLEN_TREE)])
    before = await suggestions(api, "LBP-2026-00001")
    assert [s["category"] for s in before] == ["jalan"]
    assert before[0]["learned"] == []

    texts = [FALLEN_TREE] * 30 + [POTHOLE] * 30
    await runtime.intake.submit([report(n, text=t) for n, t in enumerate(texts, start=2)])
    for n, text in enumerate(texts, start=2):
        category = "bencana" if text == FALLEN_TREE else "jalan"
        status, _ = await api.act(f"LBP-2026-{n:05d}", {"action": "verify", "category": category})
        assert status == 200
    status, _ = await api.act("LBP-2026-00002", {"action": "forward"})
    assert status == 200

    with runtime.db.engine.connect() as conn:
        by_category, by_opd = labelled_examples(conn)
    assert len(by_category) == 60
    assert by_opd == [(FALLEN_TREE, "bpbd")]
    assert await asyncio.to_thread(retrain, runtime.db, api.clock()) == 61

    await runtime.intake.submit([report(100, text="Ada pohon tumbang di jalan dekat balai desa")])
    after = await suggestions(api, "LBP-2026-00062")
    assert after[0]["category"] == "bencana", after
    assert after[0]["opd"] == "bpbd"
    assert "tumbang" in after[0]["learned"]
    assert after[1]["category"] == "jalan"
    assert after[1]["matched"] == ["jalan"]


async def test_a_rejection_reason_is_learned_too(api: Api) -> None:
    runtime = api.runtime
    await runtime.intake.submit([report(1, text="Promo pinjaman online cepat cair klik link")])
    status, _ = await api.act(
        "LBP-2026-00001", {"action": "reject", "resolution": "not_government_affairs"}
    )
    assert status == 200
    with runtime.db.engine.connect() as conn:
        by_category, _ = labelled_examples(conn)
    assert by_category == [
        ("Promo pinjaman online cepat cair klik link", "reject:not_government_affairs")
    ]


async def test_only_the_latest_labelled_tickets_are_learned_each_with_its_last_label(
    api: Api,
) -> None:
    """The retrain reads the audit trail newest first and stops at `latest` tickets: the
    oldest decisions drop out, and a ticket relabelled counts with its last label."""
    runtime = api.runtime
    texts = [POTHOLE, FALLEN_TREE, POTHOLE, FALLEN_TREE]
    await runtime.intake.submit([report(n, text=t) for n, t in enumerate(texts, start=1)])
    for n in (1, 2, 3, 4):
        category = "jalan" if texts[n - 1] == POTHOLE else "bencana"
        status, _ = await api.act(f"LBP-2026-{n:05d}", {"action": "verify", "category": category})
        assert status == 200
    status, _ = await api.act("LBP-2026-00002", {"action": "forward"})  # labelled last
    assert status == 200

    with runtime.db.engine.connect() as conn:
        by_category, by_opd = labelled_examples(conn, latest=2)
        everything, _ = labelled_examples(conn)
    assert by_category == [(FALLEN_TREE, "bencana"), (FALLEN_TREE, "bencana")]  # 2 and 4
    assert by_opd == [(FALLEN_TREE, "bpbd")]
    assert len(everything) == 4
    assert await asyncio.to_thread(retrain, runtime.db, api.clock(), 2) == 3
