"""Files an OPD liaison attaches to an answer on the ticket page are checked by their content,
size and number before anything is stored: a refused file answers 400 naming it and why, and
leaves no file, no answer and no message behind (issue 18, item 5)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from api_client import Api, report, running_api
from inbox_site import Browser, add_staff, browser, csrf_of, png
from triage.config import TriageConfig

NUMBER = "LBP-2026-00001"
LIMIT = 4096  # bytes, small so that a test file can exceed it
PHOTO = png(40, 30)
BIG_PHOTO = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 20  # a JPEG's start, 5 KB


@pytest.fixture
async def api(database_url: str, tmp_path: Path, clock) -> AsyncIterator[Api]:
    triage = TriageConfig(answer_file_max_bytes=LIMIT, answer_max_files=2)
    async with running_api(database_url, tmp_path, clock, triage=triage) as api:
        await api.runtime.intake.submit([report(1)])
        await api.act(NUMBER, {"action": "verify", "category": "jalan", "forward": True})
        yield api


@pytest.fixture
async def liaison(api: Api) -> AsyncIterator[Browser]:
    add_staff(api, "pupr1", "opd", opd="pupr")
    async with browser(api) as signed_in:
        await signed_in.sign_in("pupr1")
        yield signed_in


async def answer(
    liaison: Browser, files: list[tuple[str, bytes, str]], **fields: str
) -> tuple[int, str]:
    _, html = await liaison.page(f"/tickets/{NUMBER}")
    form = aiohttp.FormData(quote_fields=False)  # names as a browser sends them
    form.add_field("csrf", csrf_of(html))
    form.add_field("action", "answer")
    form.add_field("message", "Sudah kami perbaiki.")
    for name, value in fields.items():
        form.add_field(name, value)
    for name, data, declared in files:
        form.add_field("files", data, filename=name, content_type=declared)
    response = await liaison.http.post(
        f"/tickets/{NUMBER}/actions", data=form, allow_redirects=False
    )
    return response.status, await response.text()


def stored(tmp_path: Path) -> list[Path]:
    return sorted(p for p in (tmp_path / "data" / "media").rglob("*") if p.is_file())


async def assert_nothing_kept(api: Api, tmp_path: Path) -> None:
    assert stored(tmp_path) == []
    _, ticket = await api.get(f"/api/tickets/{NUMBER}")
    assert ticket["status"] == "forwarded"
    assert [e["action"] for e in ticket["events"]][-1] == "forward"
    with api.runtime.db.read() as session:
        from sqlmodel import select

        from store.models import Ticket

        flags = session.exec(select(Ticket)).one().flags
    assert "opd_answer" not in flags


@pytest.mark.parametrize(
    ("files", "words"),
    [
        (
            [("besar.jpg", BIG_PHOTO, "image/jpeg")],
            "Berkas besar.jpg ditolak: lebih besar dari 4 KB.",
        ),
        (
            [("surat.pdf", b"<html><script>alert(1)</script></html>", "application/pdf")],
            "Berkas surat.pdf ditolak: isinya bukan jenis yang diterima (JPG, PNG, WEBP, PDF).",
        ),
        (  # a good photo first: it is not kept either
            [("foto.png", PHOTO, "image/png"), ("foto2.gif", b"GIF89a" + bytes(40), "image/gif")],
            "Berkas foto2.gif ditolak: isinya bukan jenis yang diterima (JPG, PNG, WEBP, PDF).",
        ),
        (
            [("a.png", PHOTO, "image/png")] * 3,
            "Berkas a.png, a.png, a.png ditolak: paling banyak 2 berkas sekali kirim.",
        ),
    ],
    ids=["too_big", "not_a_pdf", "one_bad_of_two", "too_many"],
)
async def test_a_refused_file_answers_400_and_nothing_is_stored(
    api: Api,
    liaison: Browser,
    tmp_path: Path,
    files: list[tuple[str, bytes, str]],
    words: str,
) -> None:
    status, html = await answer(liaison, files)
    assert status == 400
    assert words in html
    await assert_nothing_kept(api, tmp_path)


async def test_an_accepted_file_is_stored_once_under_the_data_directory(
    api: Api, liaison: Browser, tmp_path: Path
) -> None:
    status, _ = await answer(liaison, [("../../etc/foto jalan.PNG", PHOTO, "text/plain")])
    assert status == 303
    [path] = stored(tmp_path)
    assert path.read_bytes() == PHOTO
    assert path.parent.parent == tmp_path / "data" / "media" / "answers"
    _, ticket = await api.get(f"/api/tickets/{NUMBER}")
    assert ticket["status"] == "answered"
    assert ticket["events"][-1]["data"]["files"] == ["foto jalan.png"]  # no path, its own type


async def test_asked_to_act_on_a_held_ticket_the_operator_is_asked_for_the_files_again(
    api: Api, tmp_path: Path
) -> None:
    """An operator entering the OPD's answer on a ticket another operator holds is asked first;
    a form cannot carry files, so the question names them and asks for them, never dropping
    them unsaid."""
    siti = api.token_for("siti", "operator")
    await api.act(NUMBER, {"action": "assign"}, token=siti)
    add_staff(api, "budi", "operator")
    async with browser(api) as budi:
        await budi.sign_in("budi")
        status, html = await answer(budi, [("foto jalan.png", PHOTO, "image/png")])
        assert status == 200 and 'id="held-confirm"' in html
        asked = html[html.index('id="held-confirm"') :]
        asked = asked[: asked.index("</form>")]
        assert 'enctype="multipart/form-data"' in asked
        assert "Berkas lampiran tidak ikut terbawa. Lampirkan lagi: foto jalan.png" in asked
        assert '<input type="file" name="files"' in asked
        assert stored(tmp_path) == []  # nothing kept while the question waits

        status, _ = await answer(budi, [("foto jalan.png", PHOTO, "image/png")], confirm="held")
    assert status == 303
    _, ticket = await api.get(f"/api/tickets/{NUMBER}")
    assert ticket["status"] == "answered" and ticket["assignee"] == "siti"
    assert ticket["events"][-1]["data"]["files"] == ["foto jalan.png"]
    assert [p.read_bytes() for p in stored(tmp_path)] == [PHOTO]


async def test_only_the_answer_routes_take_bodies_over_two_megabytes(
    database_url: str, tmp_path: Path, clock
) -> None:
    """Files of up to 10 MB go with an answer; the sign-in form, which anyone can post to,
    keeps the app's 2 MB limit (as do the webhooks)."""
    three_megabytes = PHOTO + bytes(3 * 1024 * 1024)
    async with running_api(database_url, tmp_path, clock) as api:
        await api.runtime.intake.submit([report(1)])
        await api.act(NUMBER, {"action": "verify", "category": "jalan", "forward": True})
        add_staff(api, "pupr1", "opd", opd="pupr")
        async with browser(api) as liaison:
            await liaison.sign_in("pupr1")
            status, _ = await answer(liaison, [("foto.png", three_megabytes, "image/png")])
            assert status == 303
            assert [p.stat().st_size for p in stored(tmp_path)] == [len(three_megabytes)]
            login = await liaison.http.post("/login", data={"username": "x" * 3 * 1024 * 1024})
            assert login.status == 413
