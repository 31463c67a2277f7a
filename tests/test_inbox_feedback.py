"""What the inbox tells people when something goes wrong or is about to: error pages in the
visitor's language with a way back, delivery failures in words, the reply-window warning as
configured, the refusal's text before it goes, closed tickets opening on their history.
On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import pytest

from api_client import Api, report, running_api
from inbox.delivery_words import delivery_words
from inbox_site import add_staff, browser

NUMBER = "LBP-2026-00001"
HTML = {"Accept": "text/html,application/xhtml+xml"}


async def until(condition: Callable[[], Awaitable[bool]], seconds: float = 10) -> None:
    async with asyncio.timeout(seconds):
        while not await condition():
            await asyncio.sleep(0.05)


@pytest.fixture
async def api(database_url: str, tmp_path: Path, clock) -> AsyncIterator[Api]:
    async with running_api(database_url, tmp_path, clock) as running:
        add_staff(running, "siti", "operator")
        add_staff(running, "dishub1", "opd", opd="dishub")
        yield running


async def test_error_pages_speak_the_visitors_language_and_lead_back(api: Api) -> None:
    await api.runtime.intake.submit([report(1)])
    await api.act(NUMBER, {"action": "verify", "category": "jalan", "forward": True})
    async with browser(api) as b:
        await b.sign_in("siti")
        response = await b.http.get("/tidak-ada", headers=HTML)
        html = await response.text()
        assert response.status == 404
        assert "<h1>Tidak ditemukan</h1>" in html
        assert '<a href="/" id="back-home">← Kembali ke antrean</a>' in html
        assert "Tiket" not in html
        await b.post_form("/locale", {"locale": "en", "next": "/"}, from_page="/")
        response = await b.http.get("/users", headers=HTML)
        html = await response.text()
        assert response.status == 403
        assert "<h1>Access denied</h1>" in html and "Back to the queue" in html
    async with browser(api) as b:
        await b.sign_in("dishub1")
        response = await b.http.get(f"/tickets/{NUMBER}", headers=HTML)
        html = await response.text()
        assert response.status == 404  # another OPD's ticket looks exactly like a missing one
        assert "Laporan atau halaman yang Anda cari tidak ada" in html
    async with browser(api) as b:  # not signed in: the way back is the sign-in page
        response = await b.http.get("/tidak-ada", headers=HTML)
        assert response.status == 404
        assert '<a href="/login" id="back-home">← Masuk</a>' in await response.text()


async def test_scripts_and_the_api_keep_their_plain_answers(api: Api) -> None:
    response = await api.client.get("/api/tickets/LBP-2026-09999", headers=api.headers())
    assert (response.status, response.content_type) == (404, "application/json")
    response = await api.client.get("/tidak-ada")
    assert response.status == 404 and response.content_type == "text/plain"


async def test_a_failed_delivery_says_why_in_words(api: Api) -> None:
    await api.runtime.intake.submit([report(1)])
    await api.act(NUMBER, {"action": "reply", "message": "Sedang kami periksa."})

    async def tried() -> bool:
        return bool((await api.get(f"/api/tickets/{NUMBER}"))[1]["messages"][-1]["error_code"])

    await until(tried)  # WhatsApp is not enabled in this Kanal: the outbox cannot send
    async with browser(api) as b:
        await b.sign_in("siti")
        _, html = await b.page(f"/tickets/{NUMBER}")
    assert (
        "Pengiriman: menunggu dikirim; percobaan terakhir gagal: akun WhatsApp belum diatur" in html
    )
    assert "(disabled)" not in html


def test_delivery_states_and_errors_read_as_words() -> None:
    assert delivery_words("failed", "foreign_account", "whatsapp", "id") == (
        "Gagal: akun WhatsApp belum diatur"
    )
    assert delivery_words("failed", "disabled", "whatsapp", "en") == (
        "Failed: the WhatsApp account is not set up"
    )
    assert delivery_words("delivered", None, "whatsapp", "id") == "diterima"
    assert delivery_words("failed", "131047", "whatsapp", "id").startswith(
        "Gagal: pelapor terakhir menulis di luar jendela balasan WhatsApp"
    )
    assert delivery_words("failed", "smtp-550", "email", "id") == (
        "Gagal: server surel tidak dapat dihubungi atau menolak pesan"
    )
    assert delivery_words("failed", "9999", "telegram", "id") == (
        "Gagal: Telegram menolak pengiriman (kode 9999)"
    )


async def test_the_window_warning_promises_no_template_when_none_is_set_up(api: Api) -> None:
    await api.runtime.intake.submit([report(1)])
    api.clock.advance(timedelta(hours=25))
    async with browser(api) as b:
        await b.sign_in("siti")
        _, html = await b.page(f"/tickets/{NUMBER}")
    warning = html[html.index('id="window-warning"') :].split("</p>", 1)[0]
    assert "tidak ada templat yang diatur, jadi balasan akan gagal" in warning
    assert "templat yang disetujui" not in warning


async def test_the_window_warning_names_the_template_when_one_is_set_up(
    database_url: str, tmp_path: Path, clock
) -> None:
    whatsapp = {
        "enabled": True,
        "verify_token": "v",
        "app_secret": "s",
        "access_token": "t",
        "phone_number_id": "1234567890",
        "api_base": "http://127.0.0.1:9/v23.0",
        "template_name": "balasan_aduan",
    }
    async with running_api(database_url, tmp_path, clock, channels={"whatsapp": whatsapp}) as api:
        add_staff(api, "siti", "operator")
        await api.runtime.intake.submit([report(1)])
        api.clock.advance(timedelta(hours=25))
        async with browser(api) as b:
            await b.sign_in("siti")
            _, html = await b.page(f"/tickets/{NUMBER}")
    assert "pesan akan dikirim dengan templat yang disetujui" in html


async def test_the_refusal_is_shown_before_it_goes_and_follows_the_reason(api: Api) -> None:
    await api.runtime.intake.submit([report(1)])
    async with browser(api) as b:
        await b.sign_in("siti")
        _, html = await b.page(f"/tickets/{NUMBER}")
        assert (
            f"Laporan {NUMBER} tidak dapat kami tindak lanjuti karena belum dapat dibuktikan"
            in html.split("data-reject-text", 1)[1]
        )
        status, spam = await b.page(f"/tickets/{NUMBER}/rejection", resolution="spam")
        assert (status, spam) == (
            200,
            f"Pesan {NUMBER} tidak kami proses karena bukan laporan atau pengaduan.",
        )
        assert (await b.page(f"/tickets/{NUMBER}/rejection", resolution="x"))[0] == 400


async def test_a_closed_ticket_opens_on_its_history_not_a_form(api: Api) -> None:
    await api.runtime.intake.submit([report(1)])
    await api.act(NUMBER, {"action": "reject", "resolution": "spam"})
    async with browser(api) as b:
        await b.sign_in("siti")
        _, html = await b.page(f"/tickets/{NUMBER}")
    assert 'id="audit"' in html
    assert "<details" in html and " open>" not in html


async def test_the_ticket_page_uses_the_glossarys_words(api: Api) -> None:
    await api.runtime.intake.submit([report(1)])
    async with browser(api) as b:
        await b.sign_in("siti")
        _, html = await b.page(f"/tickets/{NUMBER}")
        _, queue = await b.page("/")
    assert 'data-action="note">Simpan catatan</button>' in html
    assert " · Sistem · <strong>Laporan masuk</strong>" in html  # not "system"
    assert '<label>Tanda dari sistem\n    <select name="flag" id="flag-pick">' in queue
    assert ">Terapkan<" in queue and ">Atur ulang<" in queue
