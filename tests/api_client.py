"""A running Kanal (the real composition root) and an HTTP client for its API, for tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from channels.base import InboundMessage
from runtime import Runtime, build_runtime
from settings import Settings
from store.db import Database
from store.users import add_user, create_token
from triage.config import CategoryConfig, OpdConfig

CATEGORIES = [
    CategoryConfig(code="jalan", name="Jalan dan jembatan", opd="pupr", keywords=["jalan"]),
    CategoryConfig(code="pju", name="Penerangan jalan", opd="dishub", keywords=["lampu"]),
]
OPDS = [
    OpdConfig(code="pupr", name="Dinas Pekerjaan Umum dan Penataan Ruang"),
    OpdConfig(code="dishub", name="Dinas Perhubungan"),
]


def report(
    n: int, sender: str | None = None, channel: str = "whatsapp", text: str = ""
) -> InboundMessage:
    return InboundMessage(
        channel=channel,
        account="1234567890",
        external_id=f"wamid.{n}",
        sender_id=sender or f"62812000{n:04d}",
        sent_at=datetime(2026, 11, 23, 1, 0, tzinfo=UTC),
        text=text or f"Laporan nomor {n}: jalan rusak di Desa Kayen",
        display_name=f"Warga {n}",
        contact=f"+62812000{n:04d}",
    )


class Api:
    def __init__(self, client: TestClient, runtime: Runtime, token: str, clock) -> None:
        self.client = client
        self.runtime = runtime
        self.token = token
        self.clock = clock

    def headers(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.token}"}

    async def get(self, path: str, token: str | None = None, **params: Any) -> tuple[int, Any]:
        response = await self.client.get(path, headers=self.headers(token), params=params)
        return response.status, await response.json()

    async def act(self, number: str, body: Any, token: str | None = None) -> tuple[int, Any]:
        response = await self.client.post(
            f"/api/tickets/{number}/actions", json=body, headers=self.headers(token)
        )
        return response.status, await response.json()

    def token_for(self, username: str, role: str, opd: str | None = None) -> str:
        with self.runtime.db.write() as session:
            add_user(session, username, "rahasia-sekali", role, opd=opd, now=self.clock())
            return create_token(session, username, now=self.clock())


@asynccontextmanager
async def running_api(
    database_url: str, tmp_path: Path, clock, **settings_values: Any
) -> AsyncIterator[Api]:
    """Kanal on `database_url` with a signed-in operator; `settings_values` override config."""
    values: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "database": {"url": database_url},
        "category": CATEGORIES,
        "opd": OPDS,
    }
    values.update(settings_values)
    settings = Settings(**values)
    db = Database(database_url)
    db.create_schema()
    runtime = build_runtime(settings, tmp_path, db, clock=clock)
    app = await runtime.web_app()
    async with TestClient(TestServer(app)) as client:
        api = Api(client, runtime, "", clock)
        api.token = api.token_for("operator1", "operator")
        yield api
