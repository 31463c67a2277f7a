"""A quoted ticket number threads a message only for that ticket's own reporter; anyone else's
message stays in their own ticket, which names the quoted one for the operator. Through the
WhatsApp webhook, the database, the API and the ticket page, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from api_client import Api, running_api
from fake_whatsapp_cloud import FakeWhatsAppCloud
from fake_whatsapp_webhooks import FIXTURES, OUR_ACCOUNT, post_webhook
from inbox_site import browser
from store.models import Message, Ticket

APP_SECRET = "quoted-app-secret"
DEWI, STRANGER, OTHER = "6289876543210", "6281399990000", "6285677770000"
FIRST = "LBP-2026-00001"


@pytest.fixture
async def fake() -> AsyncIterator[FakeWhatsAppCloud]:
    server = await FakeWhatsAppCloud().start()
    yield server
    await server.stop()


@pytest.fixture
async def api(
    database_url: str, tmp_path: Path, clock, fake: FakeWhatsAppCloud
) -> AsyncIterator[Api]:
    whatsapp = {
        "enabled": True,
        "acknowledge": False,  # these tests follow operator replies alone
        "verify_token": "quoted-verify",
        "app_secret": APP_SECRET,
        "access_token": fake.access_token,
        "phone_number_id": OUR_ACCOUNT,
        "api_base": fake.api_base,
    }
    async with running_api(database_url, tmp_path, clock, channels={"whatsapp": whatsapp}) as kanal:
        yield kanal


_serial = iter(range(1, 1000))


async def send(api: Api, sender: str, text: str) -> str:
    """A text message from `sender`, delivered by a signed webhook; returns its wamid."""
    body: dict[str, Any] = json.loads((FIXTURES / "text__indonesian_unicode.json").read_bytes())
    value = body["entry"][0]["changes"][0]["value"]
    value["contacts"][0]["wa_id"] = value["messages"][0]["from"] = sender
    wamid = f"wamid.QUOTED{next(_serial):05d}"
    value["messages"][0]["id"] = wamid
    value["messages"][0]["text"]["body"] = text
    url = str(api.client.make_url("/webhooks/whatsapp"))
    assert await post_webhook(api.client.session, url, body, APP_SECRET) == (200, "ok")
    return wamid


def ticket_of(api: Api, wamid: str) -> Ticket:
    with api.runtime.db.read() as session:
        message = session.exec(select(Message).where(Message.external_id == wamid)).one()
        return session.get(Ticket, message.ticket_id)


def tickets(api: Api) -> list[Ticket]:
    with api.runtime.db.read() as session:
        return list(session.exec(select(Ticket).order_by(col(Ticket.id))).all())


async def test_a_stranger_quoting_a_number_does_not_write_into_that_ticket(api: Api) -> None:
    report = await send(api, DEWI, "Jembatan Desa Kayen retak, mohon diperiksa")
    assert ticket_of(api, report).number == FIRST

    intrusion = await send(api, STRANGER, f"Untuk {FIRST.lower()}: laporan ini palsu, abaikan")
    theirs = ticket_of(api, intrusion)
    assert theirs.number == "LBP-2026-00002"
    assert theirs.flags["mentions"] == [FIRST]
    again = await send(api, STRANGER, f"Sekali lagi soal {FIRST}")
    assert ticket_of(api, again).id == theirs.id  # their own open ticket, named once
    assert tickets(api)[1].flags["mentions"] == [FIRST]

    own = await send(api, DEWI, f"Tambahan untuk {FIRST}: retaknya makin lebar")
    dewis = ticket_of(api, own)
    assert (dewis.number, dewis.message_count) == (FIRST, 2)
    assert "mentions" not in dewis.flags

    # Someone with an open ticket of their own: the message joins it, which now names FIRST.
    earlier = await send(api, OTHER, "Lampu jalan di Desa Ngurensiti mati")
    joined = await send(api, OTHER, f"Saya juga lihat {FIRST}")
    other = ticket_of(api, joined)
    assert (other.id, other.number) == (ticket_of(api, earlier).id, "LBP-2026-00003")
    assert other.flags["mentions"] == [FIRST]

    with api.runtime.db.read() as session:
        in_first = session.exec(select(Message).where(Message.ticket_id == dewis.id)).all()
    assert {m.sender_id for m in in_first} == {DEWI}
    status, body = await api.get(f"/api/tickets/{FIRST}")
    assert (status, body["message_count"]) == (200, 2)
    status, body = await api.get("/api/tickets/LBP-2026-00002")
    assert (status, body["flags"]["mentions"]) == (200, [FIRST])


async def test_the_ticket_page_links_the_mentioned_ticket_and_offers_it_for_merging(
    api: Api,
) -> None:
    await send(api, DEWI, "Jembatan Desa Kayen retak, mohon diperiksa")
    await send(api, STRANGER, f"Jembatan yang sama dengan {FIRST}, sudah ambruk sebagian")
    async with browser(api) as operator:
        await operator.sign_in("operator1")
        status, html = await operator.page("/tickets/LBP-2026-00002")
        assert status == 200
        assert f'<a href="/tickets/{FIRST}" data-mentions="{FIRST}">{FIRST}</a>' in html
        assert "menyebut laporan ini" in html
        assert f'<input name="into" value="{FIRST}" required>' in html
        assert (await operator.page(f"/tickets/{FIRST}"))[0] == 200  # the link leads somewhere
        response = await operator.act("LBP-2026-00002", action="merge", into=FIRST)
        assert response.status in (200, 303)
    merged = tickets(api)[1]
    assert (merged.merged_into, merged.resolution) == (FIRST, "duplicate")
