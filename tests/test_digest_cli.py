"""`main.py digest` (text, html, --send) on a seeded database, the chart PNG, and the scheduler's
notifier jobs."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import struct
import zlib
from collections.abc import AsyncIterator
from datetime import datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from test_digest import kanal, seed_day, wib

from api_client import Api
from fake_telegram_api import FakeTelegramBotApi
from main import main
from notifier.chart import BAR, HIGHLIGHT, bar_chart_png
from runtime import build_runtime
from servers.smtp import SmtpServer
from settings import Settings
from store.db import Database
from store.migrate import alembic_config


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegramBotApi]:
    fake = await FakeTelegramBotApi().start()
    yield fake
    await fake.stop()


@pytest.fixture
async def seeded(
    database_url: str, tmp_path: Path, clock, smtp_server: SmtpServer, telegram
) -> AsyncIterator[Api]:
    async with kanal(database_url, tmp_path, clock, smtp_server, telegram) as api:
        await seed_day(api)
        clock.now = wib(24, 7)
        command.stamp(alembic_config(database_url), "head")  # made by create_all
        yield api


def config_file(
    tmp_path: Path, database_url: str, smtp: SmtpServer, telegram: FakeTelegramBotApi
) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f"""
[database]
url = "{database_url}"

[notifier]
[notifier.smtp]
host = "{smtp.host}"
port = {smtp.port}
tls = "none"
from_address = "kanal@patikab.go.id"

[notifier.telegram]
bot_token = "{telegram.token}"
api_base = "{telegram.base_url}"
file_base = "{telegram.base_file_url}"

[[notifier.recipient]]
name = "kadis"
email = "kadis@patikab.go.id"
telegram_chat_id = 1001
""",
        encoding="utf-8",
    )
    return path


async def test_the_cli_prints_text_and_html_and_sends_once(
    seeded: Api,
    tmp_path: Path,
    database_url: str,
    smtp_server: SmtpServer,
    telegram: FakeTelegramBotApi,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = str(config_file(tmp_path, database_url, smtp_server, telegram))
    assert main(["--config", config, "digest", "--date", "2026-11-23"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("Ringkasan harian Kabupaten Pati, Senin, 23 November 2026\n\n")
    assert " ==\nLaporan masuk: 6\n" in text
    assert main(["--config", config, "digest", "--date", "2026-11-23", "--format", "html"]) == 0
    html = capsys.readouterr().out
    assert html.startswith('<!DOCTYPE html>\n<html lang="id">')
    # A preview is opened in a browser: the chart is in the page, not a mail part.
    assert "cid:" not in html
    [chart] = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert base64.b64decode(chart).startswith(b"\x89PNG\r\n\x1a\n")
    # Without --date, today so far (yesterday is empty on day one), and an empty day is said.
    assert main(["--config", config, "digest", "--format", "json"]) == 0
    out, err = capsys.readouterr()
    today = datetime.now(ZoneInfo("Asia/Jakarta")).date().isoformat()
    assert json.loads(out)["date"] == today
    assert f"no report was received on {today}" in err
    assert smtp_server.received == [] and telegram.calls_of("sendMessage") == []

    args = ["--config", config, "digest", "--date", "2026-11-23", "--format", "json", "--send"]
    # In a thread: the command runs its own event loop, as it does from a shell.
    assert await asyncio.to_thread(main, args) == 0
    assert capsys.readouterr().err.endswith("2 queued, 2 sent\n")
    assert [m.rcpt_tos for m in smtp_server.received] == [["kadis@patikab.go.id"]]
    assert [c.params["chat_id"] for c in telegram.calls_of("sendMessage")] == ["1001"]
    assert await asyncio.to_thread(main, args) == 0  # the day's digest exists: not sent twice
    err = capsys.readouterr().err
    assert "the digest of 2026-11-23 was made before" in err
    assert err.endswith("0 queued, 0 sent\n")
    assert len(smtp_server.received) == 1


def test_the_chart_is_a_valid_png_with_the_highlighted_day() -> None:
    png = bar_chart_png([1, 4, 2], highlight=1, width=60, height=40)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    chunks = {}
    at = 8
    while at < len(png):
        (length,) = struct.unpack(">I", png[at : at + 4])
        kind, data = png[at + 4 : at + 8], png[at + 8 : at + 8 + length]
        (crc,) = struct.unpack(">I", png[at + 8 + length : at + 12 + length])
        assert crc == zlib.crc32(kind + data)
        chunks[kind] = data
        at += 12 + length
    assert struct.unpack(">IIBBBBB", chunks[b"IHDR"]) == (60, 40, 8, 2, 0, 0, 0)
    raw = zlib.decompress(chunks[b"IDAT"])
    rows = [raw[y * 181 + 1 : (y + 1) * 181] for y in range(40)]  # filter byte + 60 RGB pixels

    def pixel(x: int, y: int) -> tuple[int, ...]:
        return tuple(rows[y][x * 3 : x * 3 + 3])

    # One slot is 44/3 px wide; probe the middle of each bar near the baseline and near the top.
    assert pixel(15, 30) == BAR and pixel(29, 30) == HIGHLIGHT and pixel(44, 30) == BAR
    assert pixel(29, 9) == HIGHLIGHT  # the tallest bar reaches the top
    assert pixel(15, 9) != BAR  # a bar of 1 of 4 does not


def test_the_scheduler_runs_the_digest_at_its_time_and_the_sweep_often(tmp_path: Path) -> None:
    settings = Settings(
        database={"url": f"sqlite:///{tmp_path / 'k.db'}"},
        notifier={"enabled": True, "digest_time": "06:30", "sweep_interval": "2m"},
    )
    runtime = build_runtime(settings, tmp_path, Database(settings.database.url))
    jobs = {job.id: job for job in runtime._scheduler().get_jobs()}
    digest, sweep = jobs["notifier-digest"], jobs["notifier"]
    fields = {f.name: str(f) for f in digest.trigger.fields}
    assert (fields["hour"], fields["minute"]) == ("6", "30")
    assert str(digest.trigger.timezone) == "Asia/Jakarta"
    assert sweep.trigger.interval.total_seconds() == 120
    assert (digest.max_instances, digest.coalesce) == (1, True)
    assert settings.notifier.digest_time == time(6, 30)
    off = build_runtime(Settings(), tmp_path, Database(settings.database.url))
    # Without the notifier: the sweep, the relearning and the clean-up (store/retention.py).
    assert {job.id for job in off._scheduler().get_jobs()} == {
        "triage-sweep",
        "triage-learn",
        "retention",
    }
