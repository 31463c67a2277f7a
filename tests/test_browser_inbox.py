"""The inbox in a real browser (Debian's Chromium through Playwright) against a real aiohttp
server running the whole runtime: sign in, filter, act on a WhatsApp report with a photo and a
location while the reporter answers, hand it to the OPD, and the safety checks."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from api_client import Api, report, running_api
from channels.base import Attachment, AttachmentKind, Location, MediaResult
from conftest import REPO
from inbox_site import add_staff, png

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = REPO / "screenshots"
NUMBER = "LBP-2026-00001"
PNG = png()


@pytest.fixture
async def api(tmp_path: Path, clock) -> AsyncIterator[Api]:
    async with running_api(f"sqlite:///{tmp_path / 'kanal.db'}", tmp_path, clock) as running:
        add_staff(running, "siti", "operator")
        add_staff(running, "kepala", "supervisor")
        add_staff(running, "pupr1", "opd", opd="pupr")
        add_staff(running, "dishub1", "opd", opd="dishub")
        yield running


@pytest.fixture
def chromium() -> Path:
    """Debian's Chromium: skipped locally when absent, a failure in CI."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing in CI: run .ci/install-chromium.sh")
        pytest.skip(f"{CHROMIUM} is not installed")
    return CHROMIUM


@pytest.fixture
async def browser(chromium: Path) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(chromium),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield launched
        await launched.close()


async def signed_in(browser: Browser, api: Api, username: str) -> Page:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    page.set_default_timeout(10_000)
    await page.goto(str(api.client.make_url("/")))
    await expect(page).to_have_url(f"{api.client.make_url('/login')}?next=/")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", "rahasia-sekali")
    await page.click("button[type=submit]")
    await expect(page.locator("h1")).to_have_text("Antrean laporan")
    return page


async def whatsapp_report_with_photo(api: Api) -> None:
    photo = Attachment(AttachmentKind.IMAGE, "image/png", media_ref="media-1")
    await api.runtime.intake.submit(
        [
            replace(
                report(1, text="Jalan berlubang dekat balai desa"),
                attachments=(photo,),
                location=Location(-6.7551, 111.0383, name="Balai Desa Kayen"),
            )
        ]
    )
    stored = api.runtime.data_dir / "media" / "foto1.png"
    stored.parent.mkdir(parents=True, exist_ok=True)
    stored.write_bytes(PNG)
    await api.runtime.intake.record_media(
        MediaResult(
            "whatsapp", "wamid.1", "media-1", stored_path="media/foto1.png", mime_type="image/png"
        )
    )


async def open_action(page: Page, action: str) -> None:
    await page.click(f"#act-{action} > summary")


async def test_a_whatsapp_report_from_queue_to_resolution(browser: Browser, api: Api) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    await whatsapp_report_with_photo(api)
    await api.runtime.intake.submit([report(2, channel="email", text="Mohon info KTP")])
    page = await signed_in(browser, api, "siti")
    rows = page.locator("tr.ticket-row")
    await expect(rows).to_have_count(2)

    await page.select_option("select[name=channel]", "whatsapp")
    await page.click("#apply-filters")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_have_attribute("data-number", NUMBER)
    # A new report appears in the open queue by itself (the page polls its list).
    await api.runtime.intake.submit([report(3, text="Lampu jalan mati di alun-alun")])
    await expect(rows).to_have_count(2)
    # Same deadline: the newest first, marked as new since the page opened.
    await expect(rows.first).to_have_attribute("data-number", "LBP-2026-00003")
    await page.screenshot(path=str(SCREENSHOTS / "queue.png"), full_page=True)

    await page.click(f"a[href='/tickets/{NUMBER}']")
    photo = page.locator("img.photo")
    await expect(photo).to_be_visible()
    assert await photo.evaluate("img => img.complete && img.naturalWidth") == 240
    await expect(page.locator("a.map")).to_have_attribute(
        "href", "https://www.openstreetmap.org/?mlat=-6.7551&mlon=111.0383#map=17/-6.7551/111.0383"
    )
    await page.screenshot(path=str(SCREENSHOTS / "ticket.png"), full_page=True)

    # Ask for the photo only: the editable text follows the chosen facts.
    await open_action(page, "request_clarification")
    text = page.locator("[data-clarify-text]")
    for fact in ("location", "photo", "supporting_data", "event_time"):
        box = page.locator(f"input[name=facts][value={fact}]")
        if await box.is_checked():
            await box.uncheck()
    await page.locator("input[name=facts][value=supporting_data]").check()
    await expect(text).to_have_value(re.compile(r"1\. data pendukung"))
    await page.click("button[data-action=request_clarification]")
    await expect(page.locator("#ticket-status")).to_have_text("Menunggu pelapor")

    # The reporter answers while the page is open: it appears without a reload by hand.
    answer = replace(report(1, text="Nomor pelanggan saya 12345"), external_id="wamid.answer")
    await api.runtime.intake.submit([answer])
    await expect(page.locator("#conversation")).to_contain_text("Nomor pelanggan saya 12345")
    await expect(page.locator("#ticket-status")).to_have_text("Baru")

    # One step: the OPD follows the category until the operator picks one, then stays.
    opd = page.locator("#act-verify select[name=opd]")
    await page.select_option("#act-verify select[name=category]", "pju")
    await expect(opd).to_have_value("dishub")
    await page.select_option("#act-verify select[name=category]", "jalan")
    await expect(opd).to_have_value("pupr")
    preview = page.locator("#act-verify [data-forward-preview]")
    await expect(preview).to_contain_text("sudah kami teruskan ke Dinas Pekerjaan Umum")
    await page.select_option("#act-verify select[name=opd]", "dishub")
    await expect(preview).to_contain_text("sudah kami teruskan ke Dinas Perhubungan")
    await page.select_option("#act-verify select[name=opd]", "pupr")
    await page.screenshot(path=str(SCREENSHOTS / "verify-forward.png"), full_page=True)
    await page.click("button[data-action=verify_forward]")
    await expect(page.locator("#ticket-status")).to_have_text("Diteruskan ke OPD")
    pupr = "Dinas Pekerjaan Umum dan Penataan Ruang"
    await expect(page.locator("#ticket-opd")).to_have_text(pupr)
    await page.click("#logout")
    await expect(page.locator("h1")).to_have_text("Masuk")

    liaison = await signed_in(browser, api, "pupr1")
    await expect(liaison.locator("tr.ticket-row")).to_have_count(1)
    await liaison.click(f"a[href='/tickets/{NUMBER}']")
    await open_action(liaison, "acknowledge")
    await liaison.click("button[data-action=acknowledge]")
    await expect(liaison.locator("#ticket-status")).to_have_text("Diproses OPD")
    await open_action(liaison, "resolve")
    await liaison.fill("#act-resolve textarea[name=message]", "Lubang sudah ditambal hari ini.")
    await liaison.click("button[data-action=resolve]")
    await expect(liaison.locator("#ticket-status")).to_have_text("Selesai")
    await expect(liaison.locator("#conversation")).to_contain_text("Lubang sudah ditambal")
    await liaison.set_viewport_size({"width": 390, "height": 844})  # a phone
    await liaison.screenshot(path=str(SCREENSHOTS / "ticket-phone.png"), full_page=True)

    head = await signed_in(browser, api, "kepala")
    await head.click("a[href='/stats']")
    await expect(head.locator("#received-total")).to_have_text("3")
    await expect(head.locator("#chart-channel")).to_be_visible()
    await head.screenshot(path=str(SCREENSHOTS / "stats.png"), full_page=True)


async def test_script_in_a_report_and_a_name_is_shown_as_text(browser: Browser, api: Api) -> None:
    text = '<script>window.__xss = 1</script><b>tebal</b> <img src=x onerror="window.__xss=2">'
    name = '<img src=x onerror="window.__xss=3">Budi'
    await api.runtime.intake.submit([replace(report(1, text=text), display_name=name)])
    page = await signed_in(browser, api, "siti")
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: dialogs.append(dialog.message))
    await expect(page.locator("td.reporter")).to_have_text(name)
    await page.click(f"a[href='/tickets/{NUMBER}']")
    await expect(page.locator("article.message .text")).to_have_text(text)
    await expect(page.locator("#reporter-name")).to_contain_text(name)
    assert await page.evaluate("window.__xss") is None
    assert await page.locator("article.message b").count() == 0
    assert dialogs == []


async def test_a_form_posted_without_its_csrf_token_is_refused(browser: Browser, api: Api) -> None:
    await api.runtime.intake.submit([report(1)])
    page = await signed_in(browser, api, "siti")
    await page.goto(str(api.client.make_url(f"/tickets/{NUMBER}")))
    await open_action(page, "note")
    await page.fill("#act-note textarea[name=text]", "catatan tanpa token")
    await page.evaluate("document.querySelector('#act-note input[name=csrf]').remove()")
    async with page.expect_response(lambda r: r.request.method == "POST") as posted:
        await page.click("button[data-action=note]")
    assert (await posted.value).status == 403
    await expect(page.locator("body")).to_contain_text("Formulir kedaluwarsa")
    _, body = await api.get(f"/api/tickets/{NUMBER}")
    assert [e["action"] for e in body["events"]] == ["opened"]


async def test_an_opd_cannot_open_another_opds_ticket_by_url(browser: Browser, api: Api) -> None:
    await api.runtime.intake.submit([report(1)])
    await api.act(NUMBER, {"action": "verify", "category": "jalan"})
    await api.act(NUMBER, {"action": "forward"})
    page = await signed_in(browser, api, "dishub1")
    response = await page.goto(str(api.client.make_url(f"/tickets/{NUMBER}")))
    assert response is not None and response.status == 404
    await expect(page.locator("h1")).to_have_text("Tidak ditemukan")
    await expect(page.locator("#back-home")).to_have_attribute("href", "/")
    response = await page.goto(str(api.client.make_url("/attachments/1")))
    assert response is not None and response.status == 404


async def test_an_opd_answers_and_the_operator_publishes_it_from_the_answered_view(
    browser: Browser, api: Api
) -> None:
    """Issue 18 ("review", the default): the liaison answers on the ticket page, the operator
    finds the ticket under "Dijawab OPD" with its count and resolves with the answer offered."""
    await api.runtime.intake.submit([report(1, text="Jalan berlubang dekat balai desa")])
    assert (await api.act(NUMBER, {"action": "verify", "category": "jalan"}))[0] == 200
    assert (await api.act(NUMBER, {"action": "forward", "opd": "pupr"}))[0] == 200

    liaison = await signed_in(browser, api, "pupr1")
    await liaison.click(f"a[href='/tickets/{NUMBER}']")
    await open_action(liaison, "answer")
    await liaison.fill("#act-answer textarea[name=message]", "Lubang sudah ditambal hari ini.")
    await liaison.click("button[data-action=answer]")
    await expect(liaison.locator("#ticket-status")).to_have_text("Dijawab OPD")
    await expect(liaison.locator("#opd-answer")).to_contain_text("belum dikirim ke pelapor")
    await expect(liaison.locator("#conversation")).not_to_contain_text("Lubang sudah ditambal")

    page = await signed_in(browser, api, "siti")
    status = page.locator("select[name=status]")
    await expect(status.locator("option[value=answered]")).to_have_text("Dijawab OPD (1)")
    await page.select_option("select[name=status]", "answered")
    await page.click("#apply-filters")
    rows = page.locator("tr.ticket-row")
    await expect(rows).to_have_count(1)
    await page.click(f"a[href='/tickets/{NUMBER}']")
    await open_action(page, "resolve")
    offered = page.locator("#act-resolve textarea[name=message]")
    await expect(offered).to_have_value("Lubang sudah ditambal hari ini.")
    await page.click("button[data-action=resolve]")
    await expect(page.locator("#ticket-status")).to_have_text("Selesai")
    await expect(page.locator("#conversation")).to_contain_text("Lubang sudah ditambal hari ini.")
    await expect(page.locator("#opd-answer")).to_contain_text("sudah dikirim ke pelapor")


async def test_an_opd_answer_with_a_photo_and_a_letter_from_the_form_to_the_history(
    browser: Browser, api: Api
) -> None:
    """Issue 18, item 5: the liaison attaches files to the answer on the ticket page; the
    operator sees them before publishing, and after the resolve they are in the history."""
    await api.runtime.intake.submit([report(1, text="Jalan berlubang dekat balai desa")])
    assert (await api.act(NUMBER, {"action": "verify", "category": "jalan"}))[0] == 200
    assert (await api.act(NUMBER, {"action": "forward", "opd": "pupr"}))[0] == 200
    letter = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"

    liaison = await signed_in(browser, api, "pupr1")
    await liaison.goto(str(api.client.make_url(f"/tickets/{NUMBER}")))
    await open_action(liaison, "answer")
    await expect(liaison.locator("#act-answer")).to_contain_text("paling besar 10 MB per berkas")
    await liaison.fill("#act-answer textarea[name=message]", "Lubang sudah ditambal hari ini.")
    await liaison.set_input_files(
        "#act-answer input[name=files]",
        [
            {"name": "tambalan.png", "mimeType": "image/png", "buffer": PNG},
            {"name": "surat.pdf", "mimeType": "application/pdf", "buffer": letter},
        ],
    )
    await liaison.click("button[data-action=answer]")
    await expect(liaison.locator("#ticket-status")).to_have_text("Dijawab OPD")
    files = liaison.locator("#opd-answer-files a")
    await expect(files).to_have_text(["tambalan.png", "surat.pdf"])

    page = await signed_in(browser, api, "siti")
    await page.goto(str(api.client.make_url(f"/tickets/{NUMBER}")))
    await expect(page.locator("#opd-answer-files a")).to_have_count(2)
    shown = await page.request.get(str(api.client.make_url(f"/tickets/{NUMBER}/answer-files/0")))
    assert (shown.status, await shown.body()) == (200, PNG)
    await open_action(page, "resolve")
    await expect(page.locator("#resolve-files")).to_contain_text("tambalan.png, surat.pdf")
    await page.click("button[data-action=resolve]")
    await expect(page.locator("#ticket-status")).to_have_text("Selesai")
    answer = page.locator("#conversation .message", has_text="Lubang sudah ditambal hari ini.")
    await expect(answer.locator("img.photo")).to_have_count(1)
    await expect(answer).to_contain_text("surat.pdf")
    await expect(page.locator("#opd-answer-files")).to_have_count(0)  # sent: in the history
    await expect(page.locator("#audit .event-files")).to_have_text(
        "Lampiran jawaban: tambalan.png, surat.pdf"
    )
