"""The operator's workbench in a real browser (Debian's Chromium through Playwright): the live
queue rewrites every count and marks what arrived since the page opened, deadlines and the
holder show, at a desktop's width and a phone's; the queue's screenshots for the README."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect
from test_browser_inbox import browser, chromium  # noqa: F401 (fixtures)

from api_client import Api, report, running_api
from inbox_site import add_staff
from support.screenshots import screenshot_folder


@pytest.fixture
async def api(tmp_path: Path, clock) -> AsyncIterator[Api]:
    async with running_api(f"sqlite:///{tmp_path / 'kanal.db'}", tmp_path, clock) as running:
        add_staff(running, "siti", "operator")
        add_staff(running, "budi", "operator")
        yield running


async def signed_in(
    chromium_browser: Browser, api: Api, user: str, width: int, height: int
) -> Page:
    context = await chromium_browser.new_context(viewport={"width": width, "height": height})
    page = await context.new_page()
    page.set_default_timeout(10_000)
    await page.goto(str(api.client.make_url("/login")))
    await page.fill("input[name=username]", user)
    await page.fill("input[name=password]", "rahasia-sekali")
    await page.click("button[type=submit]")
    await expect(page.locator("h1")).to_have_text("Antrean laporan")
    return page


@pytest.mark.parametrize(("width", "height", "name"), [(1366, 768, "desktop"), (390, 844, "phone")])
async def test_the_live_queue_updates_every_count_and_marks_new_reports(
    browser: Browser,  # noqa: F811
    api: Api,
    width: int,
    height: int,
    name: str,
    tmp_path: Path,
) -> None:
    await api.runtime.intake.submit([report(1, text="Jalan berlubang di Desa Kayen")])
    await api.runtime.intake.submit([report(2, text="Lampu jalan mati di alun-alun")])
    budi = api.token_for("budi2", "operator")
    await api.act("LBP-2026-00001", {"action": "assign"}, token=budi)
    page = await signed_in(browser, api, "siti", width, height)
    unassigned = page.locator('#views [data-count-key="views.unassigned"]')
    await expect(unassigned).to_have_text("1")
    await expect(page.locator('tr[data-number="LBP-2026-00001"] .holder-cell')).to_have_text(
        "budi2"
    )
    await expect(page.locator('tr[data-number="LBP-2026-00002"] .deadline')).to_contain_text(
        "Verifikasi"
    )
    await expect(page.locator("tr[data-new]")).to_have_count(0)
    tick = page.locator('input[name=numbers][value="LBP-2026-00002"]')
    await tick.check()  # for a bulk action: the tick must survive the refresh

    api.clock.advance(timedelta(minutes=2))  # the report comes after the page opened
    await api.runtime.intake.submit([report(3, text="Sampah menumpuk di pasar Pati")])
    new_row = page.locator('tr[data-number="LBP-2026-00003"][data-new]')
    await expect(new_row).to_be_visible(timeout=10_000)
    await expect(new_row.locator(".badge.new")).to_have_text("Baru masuk")
    await expect(unassigned).to_have_text("2")
    await expect(tick).to_be_checked()
    await expect(page.locator('option[data-count-key="status.open"]')).to_have_text("Terbuka (3)")
    await expect(page.locator('option[data-count-key="channel.whatsapp"]')).to_have_text(
        "WhatsApp (3)"
    )
    await page.screenshot(path=str(screenshot_folder(tmp_path) / f"queue-{name}.png"))


async def test_fifty_reports_verified_and_forwarded_with_the_keyboard_alone(
    browser: Browser,  # noqa: F811
    api: Api,
) -> None:
    """Each report: o (open the first of the queue), v (verify, suggestion taken), Enter,
    f (forward to the proposed OPD), Enter, Esc (back to the queue): six keys a report."""
    reports = 50
    await api.runtime.intake.submit(
        [report(n, text=f"Jalan berlubang di Desa Kayen RT {n}") for n in range(1, reports + 1)]
    )
    page = await signed_in(browser, api, "siti", 1366, 768)
    keys = 0

    async def press(key: str) -> None:
        nonlocal keys
        keys += 1
        await page.keyboard.press(key)

    await press("?")
    await expect(page.locator("#keys-help")).to_be_visible()
    await press("Escape")
    await expect(page.locator("#keys-help")).to_be_hidden()
    await press("j")
    await expect(page.locator("tr.ticket-row").nth(1)).to_have_attribute("aria-selected", "true")
    await press("k")
    keys = 0
    for _ in range(reports):
        await press("o")
        await page.wait_for_url("**/tickets/**")
        await expect(page.locator("html")).to_have_attribute("data-keys", "ready")
        await expect(page.locator("#ticket-status")).to_have_attribute("data-status", "new")
        await press("v")
        await press("Enter")
        await expect(page.locator("#done")).to_be_visible()
        await expect(page.locator("html")).to_have_attribute("data-keys", "ready")
        await press("f")
        await press("Enter")
        await expect(page.locator("#ticket-status")).to_have_attribute("data-status", "forwarded")
        # The page after the forward shows its status before its keys are bound.
        await expect(page.locator("html")).to_have_attribute("data-keys", "ready")
        await press("Escape")
        await page.wait_for_url(str(api.client.make_url("/")))
        await expect(page.locator("html")).to_have_attribute("data-keys", "ready")
    assert keys / reports == 6
    _, body = await api.get("/api/tickets", status="forwarded", limit="100")
    assert len(body["items"]) == reports
    print(f"keystrokes per report: {keys / reports}")  # the figure for the issue
