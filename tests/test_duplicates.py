"""Duplicate hints: similar words, near place, within the time window."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from triage.config import TriageConfig
from triage.duplicates import (
    Candidates,
    DuplicateRules,
    OpenTicket,
    ReportFacts,
    find_duplicate,
    haversine_m,
    rank_duplicates,
    similarity,
    text_words,
)

WIB = ZoneInfo("Asia/Jakarta")
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=WIB)
SDN_JUWANA = (-6.71470, 111.15250)
NEAR_SDN = (-6.71500, 111.15270)  # about 40 m away
PATI_SQUARE = (-6.75590, 111.03800)

POTHOLE = OpenTicket(
    "LBP-2026-00010",
    "Ada lubang besar di jalan depan SDN 1 Juwana, sudah ada yang jatuh",
    NOW - timedelta(days=2),
    SDN_JUWANA,
)
LAMP = OpenTicket(
    "LBP-2026-00011", "Lampu PJU depan SDN 1 Juwana mati", NOW - timedelta(days=1), SDN_JUWANA
)
WATER = OpenTicket("LBP-2026-00012", "Air PDAM di Winong tidak mengalir", NOW - timedelta(days=1))


def test_same_pothole_reported_again() -> None:
    new = ReportFacts("jalan depan SDN 1 Juwana berlubang besar, bahaya", NOW, NEAR_SDN)
    match = find_duplicate(new, [WATER, LAMP, POTHOLE])
    assert match is not None
    assert match.number == "LBP-2026-00010"
    # 6 of 7 stems shared each way (jalan, depan, sdn, juwana, lubang, besar): 0.857 unweighted;
    # more here, as the shared place names "sdn" and "Juwana" weigh double.
    assert match.text_score > 0.857
    assert match.distance_m == pytest.approx(40, abs=3)
    nearness = 1 - match.distance_m / 300
    assert match.score == pytest.approx(0.6 * match.text_score + 0.4 * nearness, abs=1e-3)


def test_without_locations_text_decides() -> None:
    new = ReportFacts("air pdam gak ngalir di Winong sudah 3 hari", NOW)
    match = find_duplicate(new, [POTHOLE, LAMP, WATER])
    assert match is not None
    assert (match.number, match.distance_m) == ("LBP-2026-00012", None)
    # Both read {air, pdam, alir, winong}: "gak", "di", "sudah", "hari" and "3" do not count.
    assert match.score == match.text_score == 1.0
    assert find_duplicate(ReportFacts("sampah menumpuk di pasar Winong", NOW), [WATER]) is None


def test_far_apart_reports_are_not_duplicates() -> None:
    new = ReportFacts("Ada lubang besar di jalan depan SDN 1 Juwana", NOW, PATI_SQUARE)
    assert find_duplicate(new, [POTHOLE]) is None
    wider = DuplicateRules(max_distance_m=50_000)
    assert find_duplicate(new, [POTHOLE], wider) is not None


def test_same_spot_different_problem_needs_shared_words() -> None:
    new = ReportFacts("Sampah menumpuk, baunya menyengat", NOW, SDN_JUWANA)
    assert rank_duplicates(new, [POTHOLE, LAMP]) == []


def test_outside_the_time_window() -> None:
    old = OpenTicket(POTHOLE.number, POTHOLE.text, NOW - timedelta(days=15), SDN_JUWANA)
    new = ReportFacts(POTHOLE.text, NOW, SDN_JUWANA)
    assert find_duplicate(new, [old]) is None
    assert find_duplicate(new, [old], DuplicateRules(window=timedelta(days=30))) is not None


def test_ranking_best_first_then_newest() -> None:
    twin = OpenTicket("LBP-2026-00020", POTHOLE.text, NOW - timedelta(hours=1), SDN_JUWANA)
    new = ReportFacts(POTHOLE.text, NOW, SDN_JUWANA)
    ranked = rank_duplicates(new, [POTHOLE, LAMP, twin])
    assert [m.number for m in ranked] == ["LBP-2026-00020", "LBP-2026-00010", "LBP-2026-00011"]
    assert ranked[0].score == ranked[1].score == 1.0
    assert ranked[2].score < 1.0


def test_window_edge_to_the_microsecond() -> None:
    new = ReportFacts(POTHOLE.text, NOW, SDN_JUWANA)
    edge = timedelta(days=14)
    for age, inside in [(edge, True), (edge + timedelta(microseconds=1), False)]:
        old = OpenTicket(POTHOLE.number, POTHOLE.text, NOW - age, SDN_JUWANA)
        assert (find_duplicate(new, [old]) is not None) is inside
        newer = OpenTicket(POTHOLE.number, POTHOLE.text, NOW + age, SDN_JUWANA)
        assert find_duplicate(new, [newer]) is None  # only earlier tickets are originals


def test_candidates_readied_once_for_many_reports() -> None:
    twin = OpenTicket("LBP-2026-00020", POTHOLE.text, NOW - timedelta(hours=1), SDN_JUWANA)
    candidates = Candidates([POTHOLE, LAMP, WATER, twin])
    new = ReportFacts(POTHOLE.text, NOW, SDN_JUWANA)
    assert rank_duplicates(new, candidates) == rank_duplicates(new, [POTHOLE, LAMP, WATER, twin])
    # A report's own ticket is left out without copying the list.
    match = find_duplicate(new, candidates.without("LBP-2026-00020"))
    assert match is not None and match.number == "LBP-2026-00010"
    assert find_duplicate(new, candidates) == rank_duplicates(new, candidates)[0]


def test_the_duplicate_found_is_the_first_ranked() -> None:
    """Scores and arrivals tie in every way here: the one found must be the one ranked first."""
    texts = [POTHOLE.text, LAMP.text, "lubang besar di jalan", "jalan Juwana"]
    places = [None, SDN_JUWANA, NEAR_SDN, (-6.7160, 111.1525)]
    hours = [0, 1, 1, 30]
    tickets = [
        OpenTicket(f"LBP-2026-{i:05d}", text, NOW - timedelta(hours=hour), place)
        for i, (text, place, hour) in enumerate(
            (t, p, h) for t in texts for p in places for h in hours
        )
    ]
    arrival = {ticket.number: ticket.received_at for ticket in tickets}
    for text in [*texts, "Sampah menumpuk"]:
        for place in places:
            for min_score in (0.0, 0.5, 0.9):
                new = ReportFacts(text, NOW, place)
                rules = DuplicateRules(min_score=min_score)
                ranked = rank_duplicates(new, tickets, rules)
                assert find_duplicate(new, tickets, rules) == (ranked[0] if ranked else None)
                order = [(-m.score, -arrival[m.number].timestamp()) for m in ranked]
                assert order == sorted(order)  # best first, newer first on ties


def test_rules_from_config() -> None:
    triage = TriageConfig.model_validate(
        {"duplicate_window": "3d", "duplicate_distance_m": 150, "duplicate_min_score": 0.7}
    )
    assert DuplicateRules.from_config(triage) == DuplicateRules(timedelta(days=3), 150.0, 0.7)


def test_similarity_and_distance() -> None:
    assert similarity({"jalan", "rusak"}, {"jalan", "rusak"}) == 1.0
    assert similarity({"jalan", "rusak"}, {"jalan", "lubang", "parah"}) == pytest.approx(
        0.408, 1e-3
    )
    assert similarity(set(), {"jalan"}) == 0.0
    assert haversine_m((0.0, 0.0), (1.0, 0.0)) == pytest.approx(111_195, rel=1e-4)
    assert haversine_m(PATI_SQUARE, (-6.8048, 110.8405)) == pytest.approx(22_500, rel=0.01)


# --- only earlier tickets, rare words and place names, distance ----------------------------


def test_only_tickets_that_arrived_earlier_are_originals() -> None:
    text = "Lampu jalan di desa Kajen mati"
    earlier = OpenTicket("LBP-2026-00005", text, NOW)
    later = OpenTicket("LBP-2026-00006", text, NOW)  # the same intake batch: the same moment
    first = ReportFacts(text, NOW, number="LBP-2026-00005")
    second = ReportFacts(text, NOW, number="LBP-2026-00006")
    assert find_duplicate(first, [later]) is None
    match = find_duplicate(second, [earlier])
    assert match is not None and match.number == "LBP-2026-00005"
    # Serials past their zero padding still sort by number.
    wide = ReportFacts(text, NOW, number="LBP-2026-100000")
    assert find_duplicate(wide, [OpenTicket("LBP-2026-99999", text, NOW)]) is not None
    assert (
        find_duplicate(
            ReportFacts(text, NOW, number="LBP-2026-99999"),
            [OpenTicket("LBP-2026-100000", text, NOW)],
        )
        is None
    )
    # A ticket that arrived after the report is never its original, whatever the numbers.
    assert find_duplicate(first, [OpenTicket("LBP-2026-00001", text, NOW + MINUTE)]) is None


MINUTE = timedelta(minutes=1)
FORM = (
    "Selamat siang Bapak/Ibu, saya ingin melaporkan kondisi jalan yang rusak parah dan berlubang"
    " di {}. Mohon segera ditindaklanjuti oleh dinas terkait. Terima kasih."
)
RECENT = [
    FORM.format("Jl. Diponegoro Desa Puri"),
    FORM.format("Dukuh Krajan Desa Gabus"),
    "Lampu PJU di Jl. Kolonel Sunandar mati, mohon segera ditindaklanjuti. Terima kasih.",
    "Air PDAM di Perum Puri Indah tidak mengalir 3 hari, mohon ditindaklanjuti dinas terkait.",
    "Sampah menumpuk di pasar Juwana, mohon segera diangkut. Terima kasih.",
    FORM.format("Desa Ngagel Kecamatan Dukuhseti"),
    "Selokan di Desa Tambakromo mampet, mohon ditindaklanjuti. Terima kasih.",
]
OPEN = [
    OpenTicket(f"LBP-2026-{i:05d}", text, NOW - timedelta(days=7 - i))
    for i, text in enumerate(RECENT, 1)
]


def test_the_same_wording_about_another_road_is_no_duplicate() -> None:
    new = ReportFacts(FORM.format("Jl. Kartini Kelurahan Pati Lor"), NOW)
    # Counted as plain sets of stems the two forms are alike ...
    assert similarity(text_words(new.text)[0], text_words(RECENT[0])[0]) > 0.7
    # ... but the form's words are in many recent tickets and the places differ.
    assert find_duplicate(new, OPEN) is None
    [closest, *_] = rank_duplicates(new, OPEN, DuplicateRules(min_score=0))
    assert closest.score < 0.35


def test_a_reworded_repeat_naming_the_same_place_is_found() -> None:
    new = ReportFacts(
        "sdh 5 hari lalu sy lapor, lubang di jalan Dukuh Krajan Gabus blm ditambal jg,"
        " motor sy jatuh",
        NOW,
    )
    assert similarity(text_words(new.text)[0], text_words(RECENT[1])[0]) < 0.5  # as sets
    match = find_duplicate(new, OPEN)
    assert match is not None and match.number == "LBP-2026-00002"
    assert match.score > 0.6


def test_distance_decides_when_both_reports_have_coordinates() -> None:
    text = "Lampu PJU di tikungan mati"
    old = OpenTicket("LBP-2026-00001", text, NOW - MINUTE, SDN_JUWANA)
    near = find_duplicate(ReportFacts(text, NOW, NEAR_SDN), [old])
    assert near is not None and near.distance_m == pytest.approx(40, abs=3)
    assert find_duplicate(ReportFacts(text, NOW, PATI_SQUARE), [old]) is None  # 13 km off
    without = find_duplicate(ReportFacts(text, NOW), [old])  # one side has none: text decides
    assert without is not None and without.distance_m is None
