"""Every staff page fits a 390 px phone without scrolling sideways, and the queue's filters fold
away there; at 1366 px they stay open. Debian's Chromium through Playwright."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect
from test_browser_inbox import CHROMIUM

from api_client import Api, report, running_api
from inbox_site import add_staff
from support.screenshots import screenshot_folder

NUMBER = "LBP-2026-00001"
LONG = "Jalan_berlubang_di_depan_SD_Negeri_2_Kayen_" * 6  # one unbreakable word
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 768}


@pytest.fixture
async def api(tmp_path: Path, clock) -> AsyncIterator[Api]:
    database = f"sqlite:///{tmp_path / 'kanal.db'}"
    async with running_api(database, tmp_path, clock, canned_reply=[CANNED]) as running:
        add_staff(running, "admin", "admin")
        add_staff(running, "pupr1", "opd", opd="pupr")
        await running.runtime.intake.submit(
            [
                replace(report(1, text=f"{LONG} mohon segera diperbaiki"), display_name=LONG[:60]),
                report(2, channel="email", text="Lampu jalan mati di alun-alun"),
            ]
        )
        await running.act(NUMBER, {"action": "reply", "message": f"Kami cek. {LONG}"})
        yield running


CANNED = {"title": "Sedang dicek", "text": {"id": "Laporan {number} sedang kami cek."}}


@pytest.fixture
async def chromium_browser() -> AsyncIterator[Browser]:
    """Debian's Chromium, as tests/test_browser_inbox.py launches it."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing in CI")
        pytest.skip(f"{CHROMIUM} is not installed")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
        )
        yield launched
        await launched.close()


async def signed_in(browser: Browser, api: Api, username: str, viewport: dict) -> Page:
    context = await browser.new_context(viewport=viewport)
    page = await context.new_page()
    page.set_default_timeout(10_000)
    await page.goto(str(api.client.make_url("/login")))
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", "rahasia-sekali")
    await page.click("button[type=submit]")
    await expect(page.locator("#queue")).to_be_visible()
    return page


async def overflow(page: Page) -> int:
    """How many pixels the page is wider than the window (0 when it fits)."""
    return await page.evaluate(
        "Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
        " - window.innerWidth"
    )


PAGES = [
    "/",
    f"/tickets/{NUMBER}",
    "/stats",
    "/users",
    "/canned",
    "/tidak-ada",
]


async def test_every_page_fits_a_phone(chromium_browser: Browser, api: Api) -> None:
    browser = chromium_browser
    page = await signed_in(browser, api, "admin", PHONE)
    widths = {}
    for path in PAGES:
        await page.goto(str(api.client.make_url(path)))
        if path.startswith("/tickets/"):  # every form open, as an operator would open them
            await page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        widths[path] = await overflow(page)
    assert widths == dict.fromkeys(PAGES, 0)
    liaison = await signed_in(browser, api, "pupr1", PHONE)
    assert await overflow(liaison) == 0
    login = await (await browser.new_context(viewport=PHONE)).new_page()
    await login.goto(str(api.client.make_url("/login")))
    assert await overflow(login) == 0


async def test_the_filters_fold_away_on_a_phone_and_stay_open_on_a_desktop(
    chromium_browser: Browser, api: Api
) -> None:
    browser = chromium_browser
    phone = await signed_in(browser, api, "admin", PHONE)
    status = phone.locator("select[name=status]")
    await expect(status).to_be_hidden()
    await expect(phone.locator("input[name=q]")).to_be_visible()  # search stays at hand
    await phone.click("#more-filters > summary")
    await expect(status).to_be_visible()
    await phone.select_option("select[name=channel]", "email")
    await phone.click("#apply-filters")
    await expect(phone.locator("tr.ticket-row")).to_have_count(1)
    await expect(phone.locator("select[name=channel]")).to_be_visible()  # a filter is set: open
    desktop = await signed_in(browser, api, "admin", DESKTOP)
    await expect(desktop.locator("select[name=status]")).to_be_visible()


FORMS = ("verify", "request_clarification", "reject", "reply", "note")


async def test_screenshots_of_a_ticket_and_its_forms_at_both_widths(
    chromium_browser: Browser, api: Api, tmp_path: Path
) -> None:
    """docs/screenshots/, referenced from the README: small pictures, each form on its own."""
    browser = chromium_browser
    shots = screenshot_folder(tmp_path)
    for width, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page = await signed_in(browser, api, "admin", viewport)
        await page.goto(str(api.client.make_url(f"/tickets/{NUMBER}")))
        await page.evaluate("document.querySelectorAll('details').forEach(d => d.open = false)")
        await page.screenshot(path=str(shots / f"ticket-{width}.png"))
        for form in FORMS:
            await page.click(f"#act-{form} > summary")
            box = page.locator(f"#act-{form}")
            await expect(box.locator("button").first).to_be_visible()
            await box.screenshot(path=str(shots / f"form-{form}-{width}.png"))
            await page.click(f"#act-{form} > summary")
        await page.goto(str(api.client.make_url("/users")))
        await page.screenshot(path=str(shots / f"users-{width}.png"))
    assert all((shots / f"form-{f}-phone.png").stat().st_size < 200_000 for f in FORMS)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
async def test_the_forms_show_each_message_before_it_goes(
    chromium_browser: Browser, api: Api, viewport: dict
) -> None:
    page = await signed_in(chromium_browser, api, "admin", viewport)
    await page.goto(str(api.client.make_url("/tickets/LBP-2026-00002")))
    await page.click("#act-reject > summary")
    message = page.locator("#act-reject textarea[name=message]")
    await expect(message).to_have_value(re.compile("belum dapat dibuktikan kebenarannya"))
    await page.select_option("#act-reject select[name=resolution]", "spam")
    await expect(message).to_have_value(re.compile("bukan laporan atau pengaduan"))
    await page.click("#act-reject > summary")
    await page.click("#act-reply > summary")
    reply = page.locator("#act-reply textarea[name=message]")
    await page.select_option("#act-reply select[data-canned]", label="Sedang dicek")
    await expect(reply).to_have_value("Laporan LBP-2026-00002 sedang kami cek.")
    await reply.fill("Laporan LBP-2026-00002 sedang kami cek di lapangan.")
    await page.click("button[data-action=reply]")
    await expect(page.locator("#conversation")).to_contain_text("sedang kami cek di lapangan")
    assert await overflow(page) == 0
