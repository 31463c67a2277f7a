"""The JSON API through HTTP, wired by the real composition root, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlmodel import select

from api_client import Api, report, running_api
from inbox.openapi import openapi_document
from runtime import build_runtime
from settings import Settings
from store.db import Database
from store.models import Message, OutboxItem


@pytest.fixture
async def api(database_url: str, tmp_path: Path, clock) -> AsyncIterator[Api]:
    async with running_api(database_url, tmp_path, clock) as running:
        yield running


async def test_healthz_answers_ok_when_the_database_answers(api: Api) -> None:
    async with asyncio.timeout(10):  # on PostgreSQL the scheduler's lock is taken in a moment
        while not (body := await (await api.client.get("/healthz")).json())["leading"]:
            await asyncio.sleep(0.05)
    response = await api.client.get("/healthz")
    assert (response.status, await response.json()) == (
        200,
        {"status": "ok", "database": "ok", "leading": ["scheduler"]},
    )
    assert body["status"] == "ok"


async def test_healthz_answers_503_when_the_database_is_gone(tmp_path: Path) -> None:
    settings = Settings(database={"url": "postgresql+psycopg://kanal@127.0.0.1:9/none"})
    runtime = build_runtime(settings, tmp_path, Database(settings.database.url))
    app: web.Application = await runtime.web_app()
    async with TestClient(TestServer(app)) as client:
        response = await client.get("/healthz")
        assert response.status == 503
        assert (await response.json())["status"] == "unavailable"


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer kanal_wrong", "Basic b3BlcmF0b3I6eA=="])
async def test_the_api_needs_a_valid_token(api: Api, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    response = await api.client.get("/api/tickets", headers=headers)
    assert response.status == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="kanal"'


async def test_tickets_page_by_cursor_newest_activity_first(api: Api) -> None:
    for n in range(5):
        await api.runtime.intake.submit([report(n)])
        api.clock.advance(timedelta(minutes=1))

    pages = []
    status, body = await api.get("/api/tickets", limit="2")
    pages.append(body)
    while body["next_cursor"]:
        status, body = await api.get("/api/tickets", limit="2", cursor=body["next_cursor"])
        assert status == 200
        pages.append(body)

    numbers = [item["number"] for page in pages for item in page["items"]]
    assert [len(p["items"]) for p in pages] == [2, 2, 1]
    assert numbers == [f"LBP-2026-{n:05d}" for n in (5, 4, 3, 2, 1)]
    first = pages[0]["items"][0]
    assert first["reporter"] == {
        "name": "Warga 4",
        "contact": "+628120000004",
        "channel_id": "628120000004",
    }
    assert first["status"] == "new"
    assert first["resolution"] is None
    assert first["message_count"] == 1
    assert first["created_at"] == "2026-11-23T09:04:00+07:00"


async def test_tickets_filter_by_status_channel_and_text(api: Api) -> None:
    await api.runtime.intake.submit([report(1, text="Lampu PJU mati di Juwana")])
    await api.runtime.intake.submit([report(2, channel="email", sender="a@b.id")])
    await api.act("LBP-2026-00001", {"action": "request_clarification", "message": "Di mana?"})

    _, by_status = await api.get("/api/tickets", status="clarifying")
    _, by_channel = await api.get("/api/tickets", channel="email")
    _, by_text = await api.get("/api/tickets", q="pju")
    _, nothing = await api.get("/api/tickets", q="tidak ada yang cocok 100%")

    assert [t["number"] for t in by_status["items"]] == ["LBP-2026-00001"]
    assert [t["number"] for t in by_channel["items"]] == ["LBP-2026-00002"]
    assert [t["number"] for t in by_text["items"]] == ["LBP-2026-00001"]
    assert nothing == {"items": [], "next_cursor": None}


@pytest.mark.parametrize(
    ("params", "problem"),
    [({"limit": "x"}, "limit"), ({"limit": "0"}, "limit"), ({"cursor": "!!"}, "cursor")],
)
async def test_bad_list_parameters_get_400(api: Api, params: dict, problem: str) -> None:
    status, body = await api.get("/api/tickets", **params)
    assert status == 400
    assert problem in body["error"]


async def test_a_ticket_goes_from_report_to_resolution(api: Api) -> None:
    await api.runtime.intake.submit([report(1)])
    number = "LBP-2026-00001"

    assert (await api.act(number, {"action": "forward", "opd": "pupr"}))[0] == 409
    status, body = await api.act(number, {"action": "verify", "category": "jalan"})
    assert (status, body["category"], body["opd"], body["verified"]) == (200, "jalan", "pupr", True)
    status, body = await api.act(number, {"action": "forward"})
    assert (status, body["status"], body["opd"]) == (200, "forwarded", "pupr")
    # Monday 23 November 09:00 WIB: seven working days for the OPD, fourteen for the case.
    assert body["opd_due_at"] == "2026-12-02T23:59:59.999999+07:00"
    assert body["due_at"] == "2026-12-11T23:59:59.999999+07:00"
    assert body["messages"][-1]["text"] == (
        "Laporan LBP-2026-00001 sudah kami teruskan ke Dinas Pekerjaan Umum dan Penataan Ruang "
        "untuk ditindaklanjuti. Tanggapan dijadwalkan paling lambat Rabu, 2 Desember 2026 "
        "pukul 23.59 WIB."
    )
    status, body = await api.act(number, {"action": "acknowledge"})
    assert body["status"] == "in_progress"
    status, body = await api.act(
        number, {"action": "resolve", "message": "Jalan sudah ditambal hari ini. Terima kasih."}
    )
    assert (status, body["status"], body["resolution"]) == (200, "resolved", "resolved")
    assert [e["action"] for e in body["events"]] == [
        "opened",
        "verify",
        "forward",
        "acknowledge",
        "resolve",
    ]
    assert [(e["from_state"], e["to_state"]) for e in body["events"][1:]] == [
        ("new", "new"),
        ("new", "forwarded"),
        ("forwarded", "in_progress"),
        ("in_progress", "resolved"),
    ]
    assert all(e["actor"] == "operator1" for e in body["events"][1:])
    inbound, _notice, outbound, checkback = body["messages"]
    assert (inbound["direction"], outbound["direction"]) == ("in", "out")
    assert outbound["text"] == "Jalan sudah ditambal hari ini. Terima kasih."
    assert outbound["author"] == "operator1"
    assert checkback["text"].startswith("Apakah masalah pada laporan LBP-2026-00001 sudah beres?")
    with api.runtime.db.read() as session:
        item = session.exec(select(OutboxItem).order_by(OutboxItem.id)).first()
        message = session.exec(select(Message).where(Message.direction == "out")).first()
    assert item.payload["recipient_id"] == "628120000001"
    assert (item.channel, message.reply_to) == ("whatsapp", "wamid.1")


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"action": "fly"}, 422),
        ({"action": "verify", "category": "nope"}, 422),
        ({"action": "verify"}, 422),
        ({"action": "reject", "resolution": "resolved"}, 409),
        ({"action": "acknowledge"}, 409),
        ({"action": "note"}, 422),
        ({"action": "merge", "into": "LBP-2026-00001"}, 422),
        ({"action": "note", "text": "x", "surprise": 1}, 422),
        (["not", "an", "object"], 422),
    ],
)
async def test_bad_actions_are_refused_with_a_json_error(api: Api, body: Any, status: int) -> None:
    await api.runtime.intake.submit([report(1)])
    got, answer = await api.act("LBP-2026-00001", body)
    assert got == status
    assert answer["error"]
    _, ticket = await api.get("/api/tickets/LBP-2026-00001")
    assert [e["action"] for e in ticket["events"]] == ["opened"]


async def test_a_body_that_is_not_json_gets_422(api: Api) -> None:
    await api.runtime.intake.submit([report(1)])
    response = await api.client.post(
        "/api/tickets/LBP-2026-00001/actions", data=b"{not json", headers=api.headers()
    )
    assert response.status == 422
    assert (await response.json())["error"] == "the body must be a JSON object"


async def test_unknown_ticket_is_404(api: Api) -> None:
    assert (await api.get("/api/tickets/LBP-2026-09999"))[0] == 404
    assert (await api.act("LBP-2026-09999", {"action": "note", "text": "x"}))[0] == 404


async def test_merge_note_and_reopen(api: Api) -> None:
    await api.runtime.intake.submit([report(1)])
    await api.runtime.intake.submit([report(2)])

    status, body = await api.act("LBP-2026-00002", {"action": "merge", "into": "lbp-2026-00001"})
    assert (status, body["status"], body["resolution"]) == (200, "closed", "duplicate")
    assert body["merged_into"] == "LBP-2026-00001"
    status, body = await api.act("LBP-2026-00002", {"action": "note", "text": "sama persis"})
    assert body["events"][-1]["note"] == "sama persis"
    _, original = await api.get("/api/tickets/LBP-2026-00001")
    assert original["events"][-1]["data"] == {"from": "LBP-2026-00002"}
    status, body = await api.act("LBP-2026-00002", {"action": "reopen"})
    assert (status, body["status"], body["resolution"], body["merged_into"]) == (
        200,
        "new",
        None,
        None,
    )


async def test_reopen_is_refused_after_the_window(api: Api) -> None:
    await api.runtime.intake.submit([report(1)])
    await api.act("LBP-2026-00001", {"action": "reject", "resolution": "spam", "message": "Maaf"})
    api.clock.advance(timedelta(days=8))

    status, body = await api.act("LBP-2026-00001", {"action": "reopen"})
    assert status == 409
    assert "too long ago" in body["error"]


async def test_an_opd_user_sees_and_does_only_its_own(api: Api) -> None:
    await api.runtime.intake.submit([report(1)])
    await api.runtime.intake.submit([report(2)])
    for number, category in (("LBP-2026-00001", "jalan"), ("LBP-2026-00002", "pju")):
        await api.act(number, {"action": "verify", "category": category})
        await api.act(number, {"action": "forward"})
    pupr = api.token_for("pupr1", "opd", opd="pupr")

    _, listing = await api.get("/api/tickets", token=pupr)
    assert [t["number"] for t in listing["items"]] == ["LBP-2026-00001"]
    assert (await api.get("/api/tickets/LBP-2026-00002", token=pupr))[0] == 404
    assert (await api.act("LBP-2026-00002", {"action": "acknowledge"}, token=pupr))[0] == 404
    assert (await api.act("LBP-2026-00001", {"action": "reply", "message": "x"}, token=pupr))[
        0
    ] == 403
    status, body = await api.act("LBP-2026-00001", {"action": "acknowledge"}, token=pupr)
    assert (status, body["status"]) == (200, "in_progress")


async def test_categories_and_opds_list_the_config(api: Api) -> None:
    assert (await api.get("/api/categories"))[1] == [
        {"code": "jalan", "name": "Jalan dan jembatan", "opd": "pupr"},
        {"code": "pju", "name": "Penerangan jalan", "opd": "dishub"},
    ]
    assert [o["code"] for o in (await api.get("/api/opds"))[1]] == ["pupr", "dishub"]


async def test_the_openapi_document_matches_the_routes_and_answers(api: Api) -> None:
    spec = await api.client.get("/api/openapi.json")
    spec = await spec.json()
    assert spec == openapi_document()
    documented = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    served = {
        (route.method, route.resource.canonical)
        for route in api.client.app.router.routes()
        if route.method != "HEAD"
        # The API's routes; the staff pages (inbox/pages.py) and webhooks are not in it.
        and route.resource.canonical.startswith(("/api/", "/healthz"))
    }
    assert documented == served

    await api.runtime.intake.submit([report(1)])
    await api.act("LBP-2026-00001", {"action": "reply", "message": "Terima kasih"})
    _, listing = await api.get("/api/tickets")
    _, detail = await api.get("/api/tickets/LBP-2026-00001")
    schemas = spec["components"]["schemas"]
    page = spec["paths"]["/api/tickets"]["get"]["responses"]["200"]["content"]
    assert page["application/json"]["schema"] == {"$ref": "#/components/schemas/TicketPage"}
    assert set(listing) == set(schemas["TicketPage"]["properties"])
    assert set(listing["items"][0]) == set(schemas["Ticket"]["properties"])
    extra = {"messages", "events", "follows", "reporter_history"}
    assert set(detail) == set(schemas["Ticket"]["properties"]) | extra
    assert set(detail) == set(schemas["TicketDetail"]["properties"])
    assert set(detail["messages"][0]) == set(schemas["Message"]["properties"])
    assert set(detail["events"][0]) == set(schemas["Event"]["properties"])
    for value, schema in ((detail["status"], schemas["Status"]),):
        assert value in schema["enum"]


async def test_the_operator_chooses_how_a_reply_goes_out(api: Api) -> None:
    await api.runtime.intake.submit([report(1, channel="x", sender="1849")])
    status, _ = await api.act(
        "LBP-2026-00001", {"action": "reply", "message": "Baik", "mode": "dm"}
    )
    assert status == 200
    assert (await api.act("LBP-2026-00001", {"action": "reply", "message": "x", "mode": "fax"}))[
        0
    ] == 422
    with api.runtime.db.read() as session:
        item = session.exec(select(OutboxItem)).one()
    assert item.payload["options"] == {"mode": "dm"}


async def test_an_opd_sees_a_ticket_only_once_forwarded_to_it(api: Api) -> None:
    await api.runtime.intake.submit([report(1)])
    await api.act("LBP-2026-00001", {"action": "verify", "category": "jalan"})
    pupr = api.token_for("pupr1", "opd", opd="pupr")

    assert (await api.get("/api/tickets", token=pupr))[1]["items"] == []
    assert (await api.get("/api/tickets/LBP-2026-00001", token=pupr))[0] == 404
    await api.act("LBP-2026-00001", {"action": "forward"})
    assert (await api.get("/api/tickets/LBP-2026-00001", token=pupr))[0] == 200
