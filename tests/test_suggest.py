"""Category suggestions on real-sounding reports, the stemmer, and completeness hints."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from settings import load_settings
from triage.completeness import missing_facts
from triage.config import CategoryConfig
from triage.stemmer import content_stems, stem, tokens
from triage.suggest import Suggester, suggest

CONFIG = Path(__file__).resolve().parent.parent / "config.toml"


@pytest.fixture(scope="module")
def suggester() -> Suggester:
    return Suggester(load_settings(CONFIG).category)


REPORTS = [
    ("Jalan di desa kami berlubang besar, sudah banyak yang jatuh dari motor", "jalan_jembatan"),
    ("lubang di jalan depan pasar Juwana makin dalam, mohon segera ditambal", "jalan_jembatan"),
    ("jalannya rusak parah pak, gk pernah diperbaiki dari thn lalu", "jalan_jembatan"),
    ("Jln penghubung antar desa ancur, aspal ngelupas semua", "jalan_jembatan"),
    (
        "jembatan di dukuh kami retak dan hampir putus, bahaya buat anak sekolah lewat",
        "jalan_jembatan",
    ),
    ("Selokan depan rumah mampet, kalau hujan air meluap ke jalan", "drainase_banjir"),
    (
        "tiap hujan deras kampung kami kebanjiran, saluran airnya tersumbat sampah",
        "drainase_banjir",
    ),
    ("Gorong-gorong ambrol, air tergenang sampai ke rumah warga", "drainase_banjir"),
    ("lampu PJU di jl raya pati-kudus mati sudah seminggu, malam gelap gulita", "penerangan_jalan"),
    ("Min, lampu penerangan jalan di perempatan tdk nyala, rawan begal", "penerangan_jalan"),
    ("Air PDAM gak ngalir sudah 3 hari, kami harus beli air galon", "air_bersih"),
    ("air pdam keruh dan bau, tidak layak dipakai mandi", "air_bersih"),
    ("Ada pipa bocor di pinggir jalan, airnya muncrat terus terbuang", "air_bersih"),
    ("Tumpukan sampah di pinggir jalan desa tidak diangkut, baunya menyengat", "sampah_lingkungan"),
    ("Pabrik tapioka buang limbah ke sungai, airnya hitam dan ikan pada mati", "sampah_lingkungan"),
    ("Pohon besar di tepi jalan rawan tumbang, mohon dipangkas", "sampah_lingkungan"),
    ("Pelayanan di puskesmas lambat sekali, antri dari pagi baru dipanggil siang", "kesehatan"),
    ("Di kampung kami banyak yg kena demam berdarah, mohon fogging", "kesehatan"),
    ("dokter jaga di rsud judes ke pasien bpjs ... eh maksudnya ke pasien umum juga", "kesehatan"),
    ("Sekolah SDN 2 atapnya bocor, murid belajar di kelas yg rusak", "pendidikan"),
    ("Ada pungutan uang gedung di SMP negeri padahal katanya gratis", "pendidikan"),
    ("Anak saya gak keterima PPDB padahal rumah dekat, zonasinya gimana", "pendidikan"),
    ("KTP el saya belum jadi sudah 3 bulan, katanya blangko habis", "adminduk"),
    ("Mau urus akta kelahiran anak di dukcapil antriannya panjang banget", "adminduk"),
    ("Kartu keluarga salah nama, sudah diurus tp blm dibetulkan", "adminduk"),
    (
        "Keluarga kami miskin tapi tidak pernah dapat bantuan sosial, yg dapat malah orang mampu",
        "bantuan_sosial",
    ),
    ("BLT dan PKH di desa tidak tepat sasaran, perangkat desa pilih kasih", "bantuan_sosial"),
    ("Juru parkir di alun-alun minta tarif parkir 5 ribu, padahal resminya 2 ribu", "perhubungan"),
    ("Truk besar overload lewat jalan desa tiap malam, bikin macet", "perhubungan"),
    ("Lampu lalu lintas di simpang lima mati, kendaraan semrawut", "perhubungan"),
    ("Gaji saya di pabrik di bawah UMK dan lembur gk dibayar", "ketenagakerjaan"),
    ("Saya di PHK sepihak tanpa pesangon setelah kerja 5 tahun", "ketenagakerjaan"),
    ("Listrik padam terus tiap sore, PLN gimana ini", "listrik"),
    ("Tiang listrik miring mau roboh di depan rumah, kabelnya menjuntai", "listrik"),
    ("Pedagang kaki lima jualan di trotoar, pejalan kaki gak bisa lewat", "ketertiban"),
    ("Karaoke dekat pemukiman buka sampai pagi, berisik dan ada miras", "ketertiban"),
    ("Kartu BPJS saya tiba-tiba tidak aktif padahal iuran dibayar pemerintah", "bpjs"),
    ("Sertifikat tanah program PTSL belum jadi 2 tahun", "pertanahan"),
    ("Tanah longsor menutup jalan di Gembong, mohon bantuan alat berat", "bencana"),
    ("Angin puting beliung merusak atap rumah warga di desa kami", "bencana"),
]


@pytest.mark.parametrize(("text", "expected"), REPORTS)
def test_best_suggestion(suggester: Suggester, text: str, expected: str) -> None:
    best = suggester.suggest(text)[0]
    assert best.category == expected, suggester.suggest(text)


def test_suggestion_table_is_large_enough() -> None:
    assert len(REPORTS) >= 30
    assert len({expected for _, expected in REPORTS}) == 16


def test_suggestion_carries_opd_score_and_keywords(suggester: Suggester) -> None:
    suggestions = suggester.suggest("lampu jalan mati, jalannya juga berlubang")
    assert [s.category for s in suggestions] == ["penerangan_jalan", "jalan_jembatan"]
    lighting, roads = suggestions
    assert lighting.opd == "DISHUB"
    # Heaviest first: phrases weigh the specificity of each of their words.
    assert lighting.matched == ("lampu jalan mati", "lampu jalan", "lampu mati")
    assert lighting.score > 3 * roads.score
    assert roads.opd == "PUPR"
    assert roads.matched == ("jalan berlubang",)


def test_nothing_hits() -> None:
    assert (
        suggest(
            "selamat pagi, terima kasih", [CategoryConfig(code="a", name="A", keywords=["jalan"])]
        )
        == []
    )


def test_limit_and_shared_keyword_weight() -> None:
    categories = [
        CategoryConfig(code="a", name="A", keywords=["tiang", "lampu jalan"]),
        CategoryConfig(code="b", name="B", keywords=["tiang", "listrik"]),
        CategoryConfig(code="c", name="C", keywords=["tiang"]),
    ]
    found = suggest("tiang lampu di jalan roboh", categories, limit=2)
    # "tiang": every category uses it, so it weighs 1 + ln(3/3) = 1, shared by three;
    # "lampu" and "jalan" only A uses: 1 + ln(3/1) each.
    assert [(s.category, s.score) for s in found] == [
        ("a", round(1 / 3 + 2 * (1 + math.log(3)), 3)),
        ("b", 0.333),
    ]


def test_far_apart_words_do_not_make_a_phrase() -> None:
    categories = [CategoryConfig(code="pju", name="PJU", keywords=["lampu mati"])]
    assert (
        suggest("lampu sein motor saya pecah waktu lewat jalan ini, mesin mati", categories) == []
    )
    assert suggest("lampunya sudah lama mati", categories)[0].category == "pju"


# --- the stemmer --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "root"),
    [
        ("jalan", "jalan"),
        ("jalannya", "jalan"),
        ("berlubang", "lubang"),
        ("kerusakan", "rusak"),
        ("diperbaiki", "baik"),
        ("memperbaiki", "baik"),
        ("perbaikan", "baik"),
        ("pendidikan", "didik"),
        ("penerangan", "terang"),
        ("pemerintah", "perintah"),
        ("mengalir", "alir"),
        ("ngalir", "alir"),
        ("menyapu", "sapu"),
        ("memukul", "pukul"),
        ("menulis", "tulis"),
        ("mengirim", "kirim"),
        ("sekolah", "sekolah"),
        ("sekolahnya", "sekolah"),
        ("kesehatan", "sehat"),
        ("pelayanannya", "layan"),
        ("terendam", "rendam"),
        ("tergenang", "genang"),
        ("pemadaman", "padam"),
        ("bantuan", "bantu"),
        ("pedagang", "dagang"),
        ("tolonglah", "tolong"),
        ("apakah", "apa"),
        ("menikah", "nikah"),
        ("sungai", "sungai"),
        ("pati", "pati"),
        ("makan", "makan"),
        ("ikan", "ikan"),
        ("bulan", "bulan"),
        ("kali", "kali"),
        ("bekerja", "kerja"),
        ("sebelah", "sebelah"),
        ("dipecat", "pecat"),
    ],
)
def test_stem(word: str, root: str) -> None:
    assert stem(word) == root


def test_informal_spellings_and_stop_words() -> None:
    assert tokens("Jln rusak parahhh, gk diperbaiki2") == [
        "jalan",
        "rusak",
        "parah",
        "tidak",
        "diperbaiki",
    ]
    assert content_stems("Min, lubang2 di jalan dket SD gak ditambal") == [
        "lubang",
        "jalan",
        "dekat",
        "sd",
        "tambal",
    ]


# --- completeness --------------------------------------------------------------------------


def test_missing_location_and_photo() -> None:
    assert missing_facts(location=None, attachment_kinds=[]) == ("location", "photo")
    assert missing_facts(location=None, attachment_kinds=["document"]) == ("location", "photo")


def test_photo_or_location_present() -> None:
    assert missing_facts(location=(-6.75, 111.04), attachment_kinds=[]) == ("photo",)
    assert missing_facts(location=None, attachment_kinds=["image"]) == ("location",)
    assert missing_facts(location=(-6.75, 111.04), attachment_kinds=["video"]) == ()


def test_a_named_place_counts_as_location() -> None:
    assert missing_facts(location=None, attachment_kinds=["image"], place_named=True) == ()
