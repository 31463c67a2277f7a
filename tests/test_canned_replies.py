"""Canned replies: from config.toml and from the admins' page, offered filled in on the ticket's
reply, clarification, reject and resolve forms; on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from markupsafe import escape
from pydantic import ValidationError

from api_client import Api, report, running_api
from inbox_site import add_staff, browser
from triage.canned import CannedReply, fill

NUMBER = "LBP-2026-00001"
CONFIGURED = {
    "title": "Sedang ditindaklanjuti",
    "text": {"id": "Bapak/Ibu {name}, laporan {number} di {opd} paling lambat {deadline}."},
    "forms": ["reply"],
}


@pytest.fixture
async def api(database_url: str, tmp_path: Path, clock) -> AsyncIterator[Api]:
    async with running_api(database_url, tmp_path, clock, canned_reply=[CONFIGURED]) as running:
        add_staff(running, "admin", "admin")
        add_staff(running, "siti", "operator")
        yield running


def offered_in(html: str, form: str) -> str:
    start = html.index(f'id="act-{form}"')
    return html[start : html.index("</details>", start)]


async def test_a_configured_reply_is_offered_filled_in_for_the_ticket(api: Api) -> None:
    await api.runtime.intake.submit([report(1)])
    await api.act(NUMBER, {"action": "verify", "category": "jalan", "forward": True})
    async with browser(api) as b:
        await b.sign_in("siti")
        _, html = await b.page(f"/tickets/{NUMBER}")
    filled = (
        f"Bapak/Ibu Warga 1, laporan {NUMBER} di Dinas Pekerjaan Umum dan Penataan Ruang "
        "paling lambat Rabu, 2 Desember 2026 pukul 23.59 WIB."
    )
    assert f'<option value="{escape(filled)}">Sedang ditindaklanjuti</option>' in offered_in(
        html, "reply"
    )
    assert "Sedang ditindaklanjuti" not in offered_in(html, "reject")  # reply only


async def test_an_admin_adds_a_reply_on_the_page_and_the_forms_offer_it(api: Api) -> None:
    await api.runtime.intake.submit([report(1)])
    async with browser(api) as admin, browser(api) as siti:
        await admin.sign_in("admin")
        await siti.sign_in("siti")
        response = await admin.post_form(
            "/canned",
            {
                "title": "Bukan wewenang",
                "text_id": "Mohon maaf, laporan {number} bukan wewenang kami.",
                "text_en": "Sorry, report {number} is not ours.",
                "forms": "reject",
            },
            from_page="/canned",
        )
        assert (response.status, response.headers["Location"]) == (303, "/canned")
        refused = await admin.post_form(
            "/canned",
            {"title": "Salah", "text_id": "Halo {nama}"},
            from_page="/canned",
        )
        assert refused.status == 422
        assert "unknown placeholder {nama}" in await refused.text()
        operator = await siti.post_form("/canned", {"title": "x", "text_id": "y"}, from_page="/")
        assert operator.status == 403
        _, html = await siti.page(f"/tickets/{NUMBER}")
        assert (
            f'<option value="Mohon maaf, laporan {NUMBER} bukan wewenang kami.">Bukan wewenang'
            in offered_in(html, "reject")
        )
        _, page = await admin.page("/canned")
        assert "dari config.toml" in page and "Bukan wewenang" in page
        reply_id = page.split('data-canned-id="', 1)[1].split('"', 1)[0]
        deleted = await admin.post_form(f"/canned/{reply_id}/delete", {}, from_page="/canned")
        assert deleted.status == 303
        _, html = await siti.page(f"/tickets/{NUMBER}")
        assert "Bukan wewenang" not in html


def test_a_reply_names_only_known_placeholders_and_forms() -> None:
    with pytest.raises(ValidationError, match="unknown placeholder"):
        CannedReply(title="x", text={"id": "{nomor}"})
    with pytest.raises(ValidationError, match="unknown form"):
        CannedReply(title="x", text={"id": "ok"}, forms=("merge",))
    assert fill("{name} · {number} · {other}", {"name": "Budi", "number": "N1"}) == (
        "Budi · N1 · {other}"
    )
