"""Triage hints written on new tickets after intake, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from channels.base import Attachment, AttachmentKind, InboundMessage, Location
from conftest import FixedClock
from settings import load_settings
from store.db import Database
from store.models import Ticket
from triage.assess import TicketAssessor
from triage.hints import Hinter
from triage.intake import Intake

REPO = Path(__file__).resolve().parent.parent
SENT = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)
PHOTO = Attachment(AttachmentKind.IMAGE, "image/jpeg", media_ref="MEDIA1")


@pytest.fixture(scope="module")
def hinter() -> Hinter:
    settings = load_settings(REPO / "config.toml")
    return Hinter.from_config(
        settings.triage, settings.category, settings.jurisdiction, settings.region.name, REPO
    )


def report(external_id: str, sender: str, text: str, **extra: Any) -> InboundMessage:
    return InboundMessage(
        channel="whatsapp",
        account="1234567890",
        external_id=external_id,
        sender_id=sender,
        sent_at=extra.pop("sent_at", SENT),
        text=text,
        raw={"id": external_id},
        **extra,
    )


def tickets(db: Database) -> dict[str, Ticket]:
    with db.read() as session:
        return {t.number: t for t in session.exec(select(Ticket).order_by(Ticket.id))}


def ids(db: Database, *numbers: str) -> list[int]:
    found = tickets(db)
    return [found[number].id or 0 for number in numbers]


async def test_a_repeated_report_names_its_original(
    intake: Intake, db: Database, clock: FixedClock, hinter: Hinter
) -> None:
    await intake.submit([report("w1", "6281111", "Jalan di desa Kajen berlubang besar")])
    clock.advance(timedelta(days=1))
    again = "jalannya berlubang besar pak, di desa Kajen Margoyoso"
    await intake.submit([report("w2", "6282222", again, attachments=[PHOTO])])

    TicketAssessor(db, hinter, clock).assess_now(ids(db, "LBP-2026-00002"))

    first, second = tickets(db).values()
    assert first.flags == {}  # not in the batch
    flags = second.flags
    # jalan, desa, kajen, lubang, besar shared; margoyoso not, and as a place name the first
    # report lacks it weighs more than a plain word (triage/duplicates.py).
    assert (flags["duplicate_of"], flags["duplicate_score"]) == ("LBP-2026-00001", 0.763)
    assert [(s["category"], s["opd"]) for s in flags["suggestions"]] == [("jalan_jembatan", "PUPR")]
    assert (flags["out_of_jurisdiction"], flags["places_inside"]) == (False, ["Kajen", "Margoyoso"])
    assert flags["missing"] == []  # a photo, and a village named
    assert flags["place_evidence"] == [
        {"words": "desa Kajen", "place": "Desa Kajen, Kecamatan Margoyoso, Kabupaten Pati",
         "side": "inside"},
        {"words": "Margoyoso", "place": "Kecamatan Margoyoso, Kabupaten Pati", "side": "inside"},
    ]  # fmt: skip


async def test_each_report_of_a_batch_leaves_out_only_its_own_ticket(
    intake: Intake, db: Database, clock: FixedClock, hinter: Hinter
) -> None:
    await intake.submit([report("w1", "6281111", "Lampu jalan di desa Kajen mati")])
    clock.advance(timedelta(hours=1))
    await intake.submit([report("w2", "6282222", "lampu jalan desa Kajen mati total")])

    TicketAssessor(db, hinter, clock).assess_now(ids(db, "LBP-2026-00001", "LBP-2026-00002"))

    found = tickets(db)
    # Only the later report names the earlier one: never a pair naming each other.
    assert found["LBP-2026-00001"].flags["duplicate_of"] is None
    assert found["LBP-2026-00002"].flags["duplicate_of"] == "LBP-2026-00001"


async def test_the_reports_later_messages_count(
    intake: Intake, db: Database, clock: FixedClock, hinter: Hinter
) -> None:
    await intake.submit([report("w1", "6281111", "Lampu penerangan jalan mati sudah seminggu")])
    later = SENT + timedelta(minutes=5)
    place = Location(-6.75, 111.04, "Balai Desa", "Pati")
    follow_up = report(
        "w2", "6281111", "ini fotonya", sent_at=later, location=place, attachments=[PHOTO]
    )
    await intake.submit([follow_up])
    [ticket] = tickets(db).values()
    assert ticket.message_count == 2

    TicketAssessor(db, hinter, clock).assess_now([ticket.id or 0])

    [ticket] = tickets(db).values()
    assert [s["category"] for s in ticket.flags["suggestions"]] == ["penerangan_jalan"]
    assert ticket.flags["missing"] == []  # the follow-up brought both (issue 18)
    assert ticket.flags["duplicate_of"] is None  # never its own duplicate


async def test_hints_join_the_flags_already_there_and_skip_closed_tickets(
    intake: Intake, db: Database, clock: FixedClock, hinter: Hinter
) -> None:
    text = "Air PDAM di Winong tidak mengalir"
    await intake.submit([report("w1", "6281111", text)])
    clock.advance(timedelta(hours=1))
    await intake.submit([report("w2", "6282222", text), report("w3", "6283333", text)])
    with db.write() as session:
        found = {t.number: t for t in session.exec(select(Ticket))}
        found["LBP-2026-00001"].status = "closed"
        found["LBP-2026-00003"].flags = {"reminded": True}
        session.add_all(found.values())

    TicketAssessor(db, hinter, clock).assess_now(ids(db, "LBP-2026-00003"))

    flags = tickets(db)["LBP-2026-00003"].flags
    assert flags["reminded"] is True
    assert (flags["duplicate_of"], flags["duplicate_score"]) == ("LBP-2026-00002", 1.0)


async def test_a_place_named_in_several_messages_is_shown_once(
    intake: Intake, db: Database, clock: FixedClock, hinter: Hinter
) -> None:
    await intake.submit([report("w1", "6281111", "Jalan di desa Kajen berlubang besar")])
    clock.advance(timedelta(minutes=5))
    await intake.submit([report("w2", "6281111", "Tolong pak, jalan desa Kajen itu bahaya")])

    TicketAssessor(db, hinter, clock).assess_now(ids(db, "LBP-2026-00001"))

    evidence = tickets(db)["LBP-2026-00001"].flags["place_evidence"]
    assert [e["words"] for e in evidence] == ["desa Kajen"]
