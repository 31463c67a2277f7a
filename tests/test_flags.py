"""The ticket's flags: triage's hints and the sweeps' markers read apart from one JSON bag."""

from __future__ import annotations

from store.flags import SuggestedCategory, SweepMarkers, TicketFlags, merged

# As rows written before the models were stored: hints, intake's keys and markers side by side.
STORED = {
    "suggestions": [{"category": "jalan", "opd": "PUPR", "score": 0.753, "matched": ["jalan"]}],
    "out_of_jurisdiction": False,
    "jurisdiction_reason": None,
    "places_inside": ["Kayen"],
    "places_outside": [],
    "duplicate_of": "LBP-2026-00001",
    "duplicate_score": 0.913,
    "missing": ["photo"],
    "mentions": ["LBP-2026-00007"],
    "follows_ticket_id": 3,
    "reminded_for": "2026-12-07T02:00:00+00:00",
    "escalated_opd_overdue": "2026-12-08T02:00:00+00:00",
}


def test_a_stored_row_reads_into_both_models() -> None:
    hints, markers = TicketFlags.read(STORED), SweepMarkers.read(STORED)
    assert hints.suggestions == [SuggestedCategory(category="jalan", opd="PUPR", score=0.753,
                                                   matched=["jalan"])]
    assert (hints.duplicate_of, hints.missing, hints.mentions, hints.follows_ticket_id) == (
        "LBP-2026-00001", ["photo"], ["LBP-2026-00007"], 3
    )
    assert markers.reminded_for == "2026-12-07T02:00:00+00:00"
    assert markers.escalated("opd_overdue") == "2026-12-08T02:00:00+00:00"
    assert markers.escalated("overall_overdue") is None
    assert TicketFlags.read(None) == TicketFlags.read({}) == TicketFlags()


def test_the_two_models_own_every_stored_key_and_share_none() -> None:
    hint_keys, marker_keys = set(TicketFlags.model_fields), set(SweepMarkers.model_fields)
    assert not hint_keys & marker_keys
    assert hint_keys | marker_keys >= set(STORED)


def test_a_change_writes_only_its_own_keys() -> None:
    assessed = TicketFlags(missing=[], duplicate_of=None)
    assert merged(STORED, assessed) == {**STORED, "missing": [], "duplicate_of": None}
    marked = merged(STORED, SweepMarkers.escalation("verify_overdue", "2026-12-09"))
    assert marked == {**STORED, "escalated_verify_overdue": "2026-12-09"}
    assert merged(None, TicketFlags(mentions=["A"])) == {"mentions": ["A"]}


def test_intake_stores_only_what_it_knows() -> None:
    assert TicketFlags.of_threading(None, []).stored() == {}
    assert TicketFlags.of_threading(3, []).stored() == {"follows_ticket_id": 3}
    assert TicketFlags.of_threading(None, ["B"]).stored() == {"mentions": ["B"]}

