"""Each reading the suggester relies on, shown on small configs and on the shipped one:
negation, landmarks, windows that do not cross another phrase, specificity, several OPDs per
category, and stems that must not collide."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

import pytest

from settings import ConfigError, load_settings, parse_settings
from triage.config import CategoryConfig
from triage.stemmer import stem
from triage.suggest import Suggester, suggest
from triage.terms import keyword_forms, report_terms

CONFIG = Path(__file__).resolve().parent.parent / "config.toml"


@pytest.fixture(scope="module")
def shipped() -> Suggester:
    return Suggester(load_settings(CONFIG).category)


def best(suggester: Suggester, text: str) -> str | None:
    found = suggester.suggest(text)
    return found[0].category if found else None


# --- negation ------------------------------------------------------------------------------


def test_a_negated_word_is_a_term_of_its_own() -> None:
    assert [t.word for t in report_terms("air tidak mengalir")] == ["air", "!mengalir"]
    assert [t.word for t in report_terms("airnya gak ngalir")] == ["airnya", "!ngalir"]
    # The negation reaches past modals to the next content word, not past a clause break.
    assert [t.word for t in report_terms("belum pernah dapat bantuan")] == ["!dapat", "bantuan"]
    assert [t.word for t in report_terms("tidak, yang rusak jalan")] == ["rusak", "jalan"]
    # "tidak ada X": the having is negated, X is still the topic.
    assert [t.word for t in report_terms("tidak ada lampu sama sekali")] == ["lampu"]
    assert [t.word for t in report_terms("PHK tanpa pesangon")] == ["phk", "pesangon"]


def test_negated_keyword_does_not_hit_its_opposite() -> None:
    categories = [
        CategoryConfig(code="bansos", name="B", keywords=["tidak dapat bantuan"]),
        CategoryConfig(code="air", name="A", keywords=["air tidak mengalir"]),
        CategoryConfig(code="flow", name="F", keywords=["air mengalir"]),
    ]
    assert suggest("mohon dapat dibantu untuk perbaikan rumah", categories) == []
    assert [s.category for s in suggest("sy gak pernah dapat bantuan", categories)] == ["bansos"]
    # The plain keyword still hears the topic; the negated one is the better fit.
    assert suggest("air pdam tdk mengalir", categories)[0].category == "air"
    assert [s.category for s in suggest("air sudah mengalir deras", categories)] == ["flow"]


def test_plain_keyword_hears_a_negated_topic() -> None:
    categories = [CategoryConfig(code="jalan", name="J", keywords=["perbaikan jalan"])]
    found = suggest("jalan depan rumah rusak parah tapi tidak diperbaiki", categories)
    assert [s.category for s in found] == ["jalan"]


def test_shipped_negations(shipped: Suggester) -> None:
    assert best(shipped, "Kartu BPJS saya tidak aktif lagi") == "bpjs"
    hits = [s.matched for s in shipped.suggest("Mohon dapat dibantu, ada orang gila di pasar")]
    assert all("tidak dapat bantuan" not in matched for matched in hits)


# --- landmarks -----------------------------------------------------------------------------


def test_landmarks_are_places_not_topics(shipped: Suggester) -> None:
    assert [t.word for t in report_terms("jalan di belakang SMK Negeri 1 rusak")] == [
        "jalan",
        "rusak",
    ]
    assert best(shipped, "jalan di belakang SMK ambles dan berlubang") == "jalan_jembatan"
    assert best(shipped, "tanah kosong di samping bank jadi tempat buang sampah") == (
        "sampah_lingkungan"
    )
    assert best(shipped, "min jln dpn SDN 2 Tlogowungu bolong2 parah") == "jalan_jembatan"
    # Without a place preposition the school is the topic.
    assert best(shipped, "atap SDN 2 Tlogowungu bocor, murid belajar di teras") == "pendidikan"


# --- windows -------------------------------------------------------------------------------


def test_a_keyword_does_not_reach_across_another_categorys_phrase() -> None:
    categories = [
        CategoryConfig(code="pju", name="PJU", keywords=["lampu jalan", "lampu mati"]),
        CategoryConfig(code="lalin", name="Lalin", keywords=["lampu merah"]),
    ]
    text = "lampu merah di simpang Jl. Pemuda yang mati"
    assert [s.category for s in suggest(text, categories)] == ["lalin"]
    # The same words, the lamp not taken by "lampu merah", still make the phrase.
    assert [s.category for s in suggest("lampu di Jl. Pemuda mati", categories)] == ["pju"]


def test_shipped_traffic_light_is_not_street_lighting(shipped: Suggester) -> None:
    found = shipped.suggest("Lampu merah di simpang Jl. Kolonel Sunandar yang mati sejak kemarin")
    assert found[0].category == "perhubungan"
    assert "penerangan_jalan" not in [s.category for s in found]


# --- specificity ---------------------------------------------------------------------------


def test_a_word_many_categories_use_weighs_less() -> None:
    categories = [
        CategoryConfig(code="pdam", name="P", keywords=["air", "pdam"]),
        CategoryConfig(code="banjir", name="B", keywords=["air", "genangan"]),
        CategoryConfig(code="bencana", name="C", keywords=["air", "longsor"]),
    ]
    [pdam] = [s for s in suggest("pdam", categories)]
    [air, *_] = suggest("air", categories)
    assert pdam.score > air.score
    # The specific word decides where the common one is shared.
    assert suggest("genangan air", categories)[0].category == "banjir"
    assert suggest("air pdam", categories)[0].category == "pdam"


def test_the_heaviest_keywords_are_named_first() -> None:
    categories = [
        CategoryConfig(code="pdam", name="P", keywords=["air", "keruh", "air pdam"]),
        CategoryConfig(code="banjir", name="B", keywords=["air"]),
    ]
    [first] = suggest("air pdam keruh", categories)  # "air" is taken by the phrase "air pdam"
    assert first.matched == ("air pdam", "keruh", "air")


# --- several OPDs --------------------------------------------------------------------------

PARKING = {
    "code": "parkir",
    "name": "Parkir",
    "opd": ["DISHUB", "SATPOLPP"],
    "keywords": ["parkir", "juru parkir"],
    "opd_keywords": {"SATPOLPP": ["trotoar", "bahu jalan"]},
}


def test_a_category_picks_one_of_its_opds_by_keywords() -> None:
    categories = [CategoryConfig(**PARKING)]
    [tariff] = suggest("juru parkir minta 5 ribu, karcisnya 2 ribu", categories)
    assert (tariff.opd, tariff.matched) == ("DISHUB", ("juru parkir", "parkir"))
    [pavement] = suggest("motor parkir di trotoar depan toko", categories)
    assert pavement.opd == "SATPOLPP"
    assert pavement.matched[-1] == "trotoar"  # the why includes what chose the OPD


def test_shipped_parking_goes_to_dishub_or_satpol_pp(shipped: Suggester) -> None:
    [tariff, *_] = shipped.suggest("Tarif parkir di alun alun ditarik 5 ribu")
    assert (tariff.category, tariff.opd) == ("perhubungan", "DISHUB")
    [pavement, *_] = shipped.suggest("banyak mobil parkir di trotoar, pejalan kaki turun ke jalan")
    assert (pavement.category, pavement.opd) == ("perhubungan", "SATPOLPP")


def test_single_and_listed_opd_configs() -> None:
    single = CategoryConfig(code="a", name="A", opd="PUPR", keywords=["jalan"])
    assert (single.opd, single.opds, single.opd_keywords) == ("PUPR", [], {})
    listed = CategoryConfig(**PARKING)
    assert (listed.opd, listed.opds) == ("DISHUB", ["DISHUB", "SATPOLPP"])
    with pytest.raises(ValueError, match=r"opd_keywords\.DLH: not one of the category's other"):
        CategoryConfig(**{**PARKING, "opd_keywords": {"DLH": ["sampah"]}})
    with pytest.raises(ValueError, match="name at least one OPD code"):
        CategoryConfig(**{**PARKING, "opd": []})


def test_listed_opds_must_be_configured() -> None:
    document: dict[str, Any] = tomllib.loads(CONFIG.read_text(encoding="utf-8"))
    document = copy.deepcopy(document)
    traffic = next(c for c in document["category"] if c["code"] == "perhubungan")
    traffic["opd"] = ["DISHUB", "POLRES"]
    traffic["opd_keywords"] = {"POLRES": ["tilang"]}
    with pytest.raises(ConfigError) as caught:
        parse_settings(document, CONFIG)
    [problem] = caught.value.problems
    assert "'POLRES' is not an [[opd]] code" in problem


# --- stems ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "root"),
    [
        ("pengecoran", "cor"),
        ("dicor", "cor"),
        ("semenisasi", "semen"),
        ("kencana", "kencana"),
        ("bencana", "bencana"),
        ("menyala", "nyala"),
        ("kerusakan", "rusak"),
    ],
)
def test_stems_from_the_issue(word: str, root: str) -> None:
    assert stem(word) == root


def test_derived_keywords_do_not_collide_with_their_roots() -> None:
    categories = [
        CategoryConfig(code="naker", name="N", keywords=["pekerja"]),
        CategoryConfig(code="bpbd", name="B", keywords=["kebakaran", "bencana"]),
        CategoryConfig(code="dlh", name="D", keywords=["bakar sampah"]),
        CategoryConfig(code="jalan", name="J", keywords=["cor jalan"]),
    ]
    assert keyword_forms("pekerja") == ("pekerja",)
    assert suggest("pekerjaan saluran di desa kami asal asalan", categories) == []
    assert suggest("para pekerjanya tidak digaji", categories)[0].category == "naker"
    assert [s.category for s in suggest("warga bakar sampah tiap sore", categories)] == ["dlh"]
    assert suggest("kebakaran rumah tadi malam", categories)[0].category == "bpbd"
    assert suggest("banjir di Perum Griya Kencana", categories) == []
    assert suggest("pengecoran jalan baru sebulan sudah retak", categories)[0].category == ("jalan")


def test_addresses_are_places_not_topics(shipped: Suggester) -> None:
    text = "jalan di Desa Sukoharjo Kec. Wedarijaksa rusak parah"
    assert [t.word for t in report_terms(text)] == ["jalan", "rusak", "parah"]
    assert best(shipped, text) == "jalan_jembatan"  # the address no longer holds them apart
    assert [t.word for t in report_terms("got di Jl. Kolonel Sunandar mampet")] == [
        "got",
        "jalan",
        "mampet",
    ]
    # A housing estate's name is no topic: "Kencana" is not "bencana", nor anything else.
    assert [t.word for t in report_terms("banjir di Perum Griya Kencana")] == ["banjir"]
