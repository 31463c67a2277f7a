"""Jurisdiction: points inside and outside a boundary (holes too) and the places a text names."""

from __future__ import annotations

from pathlib import Path

import pytest

from settings import load_settings
from triage.config import JurisdictionConfig, NeighbourConfig
from triage.jurisdiction import Boundary, Jurisdiction

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures" / "triage"
BOUNDARY = FIXTURES / "boundary__synthetic_multipolygon.geojson"


@pytest.fixture(scope="module")
def pati() -> Jurisdiction:
    settings = load_settings(REPO / "config.toml")
    return Jurisdiction(settings.jurisdiction, settings.region.name)


@pytest.fixture(scope="module")
def mapped() -> Jurisdiction:
    settings = load_settings(REPO / "config.toml")
    config = settings.jurisdiction.model_copy(update={"boundary": BOUNDARY.relative_to(REPO)})
    return Jurisdiction.from_config(config, settings.region.name, REPO)


def test_shipped_config_has_the_21_kecamatan_of_pati() -> None:
    config = load_settings(REPO / "config.toml").jurisdiction
    assert sorted(config.kecamatan) == [
        "Batangan", "Cluwak", "Dukuhseti", "Gabus", "Gembong", "Gunungwungkal", "Jaken",
        "Jakenan", "Juwana", "Kayen", "Margorejo", "Margoyoso", "Pati", "Pucakwangi",
        "Sukolilo", "Tambakromo", "Tayu", "Tlogowungu", "Trangkil", "Wedarijaksa", "Winong",
    ]  # fmt: skip
    assert [n.name for n in config.neighbour] == ["Kudus", "Jepara", "Rembang", "Blora", "Grobogan"]


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
    check = mapped.check("jalan ke arah Kudus rusak", location=(-6.7559, 111.0380))
    assert (check.flag, check.reason, check.point_inside) == (False, None, True)
    assert check.outside == ("Kabupaten Kudus",)


# --- names in the text ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "inside", "outside", "flag"),
    [
        ("Jalan di kec. Juwana rusak parah", ("Juwana",), (), False),
        ("Lampu PJU di jl raya Pati-Kudus mati", ("Kabupaten Pati",), ("Kabupaten Kudus",), False),
        ("Jalan rusak di Mejobo kab Kudus", (), ("Kabupaten Kudus", "Mejobo"), True),
        ("Banjir di Purwodadi sudah 3 hari", (), ("Purwodadi",), True),
        ("sampah numpuk di pasar Lasem", (), ("Lasem",), True),
        ("Jalan di Gunung Wungkal berlubang", ("Gunungwungkal",), (), False),
        ("jalan dukuhseti - tayu rusak", ("Dukuhseti", "Tayu"), (), False),
        ("Pasar Kajen Margoyoso becek", ("Margoyoso", "Kajen"), (), False),
        # "jati" is wood unless it follows kecamatan/desa.
        ("Pohon jati tumbang di jalan Tlogowungu", ("Tlogowungu",), (), False),
        ("Pohon tumbang di kecamatan Jati", (), ("Jati",), True),
        # Gabus is a kecamatan of both Pati and Grobogan.
        ("Jalan di kecamatan Gabus rusak", ("Gabus",), (), False),
        ("Jalan di kecamatan Gabus Grobogan rusak", (), ("Kabupaten Grobogan",), True),
        ("jalan rusak parah, tolong diperbaiki", (), (), False),
    ],
)
def test_places_named(
    pati: Jurisdiction, text: str, inside: tuple, outside: tuple, flag: bool
) -> None:
    check = pati.check(text)
    assert (check.inside, check.outside, check.flag) == (inside, outside, flag)
    assert check.point_inside is None


def test_reason_names_the_places(pati: Jurisdiction) -> None:
    check = pati.check("Jalan rusak di Mejobo kab Kudus")
    assert check.reason == (
        "Laporan menyebut tempat di luar Kabupaten Pati (Kabupaten Kudus, Mejobo) dan tidak "
        "menyebut tempat di dalam wilayah."
    )


def test_a_location_without_a_boundary_falls_back_to_names(pati: Jurisdiction) -> None:
    check = pati.check("Jalan rusak di Mejobo", location=(-6.80, 110.84))
    assert (check.flag, check.point_inside) == (True, None)


def test_kota_and_kabupaten_of_the_same_name() -> None:
    config = JurisdictionConfig(
        name="Pasuruan",
        kind="kota",
        kecamatan=["Bugul Kidul", "Gadingrejo", "Panggungrejo", "Purworejo"],
        neighbour=[
            NeighbourConfig(name="Pasuruan", kind="kabupaten", kecamatan=["Bangil", "Pandaan"])
        ],
    )
    city = Jurisdiction(config, "Kota Pasuruan")
    outside = city.check("Jalan rusak di Kabupaten Pasuruan dekat alun-alun")
    assert (outside.flag, outside.inside, outside.outside) == (
        True, (), ("Kabupaten Pasuruan",)
    )  # fmt: skip
    assert city.check("Jalan rusak di kab. Pasuruan").flag is True
    ours = city.check("Jalan rusak di kota Pasuruan dekat alun-alun")
    assert (ours.flag, ours.inside, ours.outside) == (False, ("Kota Pasuruan",), ())
    bare = city.check("PDAM Pasuruan mati terus")
    assert (bare.flag, bare.inside) == (False, ("Kota Pasuruan",))
    assert city.check("Macet di Pandaan").outside == ("Pandaan",)
