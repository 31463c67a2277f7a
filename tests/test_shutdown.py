"""Stopping the service while a scheduled job runs is an orderly stop, not an error: one line
saying what was interrupted, no traceback (an admin restarting Kanal reads these logs)."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest

import runtime as runtime_module
from api_client import running_api
from store.db import Database


async def test_a_job_running_at_shutdown_is_reported_without_a_traceback(
    database_url: str,
    tmp_path: Path,
    clock,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    relearning = threading.Event()

    def slow_retrain(db: Database, now: datetime, latest: int) -> int:
        relearning.set()
        time.sleep(1)  # still running when the service stops
        return 0

    monkeypatch.setattr(runtime_module, "retrain", slow_retrain)
    caplog.set_level(logging.INFO)
    async with running_api(database_url, tmp_path, clock):
        for _ in range(200):
            if relearning.is_set():
                break
            await asyncio.sleep(0.05)
        assert relearning.is_set()
    problems = [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]
    assert problems == []
    said = [r.getMessage() for r in caplog.records if r.name == "kanal.runtime"]
    assert "relearning interrupted: the process is stopping" in said
