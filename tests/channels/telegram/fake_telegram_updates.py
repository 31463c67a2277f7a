"""Incoming side of the fake Bot API: the update queue, getUpdates, webhooks and getFile.

Installs into a `FakeTelegramBotApi`'s method table (telegram_api.py keeps the sending side):
- getUpdates with the published offset semantics: an update is confirmed (and forgotten) once
  getUpdates is called with an offset above its update_id; a negative offset keeps only the last
  |offset| updates; `timeout` long-polls until an update arrives; `allowed_updates` persists.
- setWebhook / deleteWebhook / getWebhookInfo: while a webhook is set, getUpdates answers 409
  and every new update is POSTed to the webhook as JSON with X-Telegram-Bot-Api-Secret-Token,
  and kept queued until the webhook answers 2xx (Telegram repeats failed deliveries).
- getFile: a File whose file_path downloads from /file/bot<token>/<file_path>.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
from dataclasses import dataclass
from typing import Any

import aiohttp

from fake_telegram_api import BotApiError, Call, FakeTelegramBotApi

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@dataclass
class Delivery:
    update_id: int
    status: int


class TelegramUpdates:
    """`updates = TelegramUpdates(fake)`; then `updates.push(update)` as users write."""

    def __init__(self, api: FakeTelegramBotApi, first_update_id: int = 730_000_001) -> None:
        self.api = api
        self.queue: list[dict[str, Any]] = []
        self.allowed_updates: list[str] | None = None
        self.webhook_url = ""
        self.secret_token: str | None = None
        self.deliveries: list[Delivery] = []
        self._ids = itertools.count(first_update_id)
        self._news = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        api.methods.update(
            getUpdates=self._get_updates,
            setWebhook=self._set_webhook,
            deleteWebhook=self._delete_webhook,
            getWebhookInfo=self._get_webhook_info,
            getFile=self._get_file,
        )

    # --- test controls ------------------------------------------------------------------------

    def push(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue `update` (its update_id replaced by the next one) as Telegram would."""
        update = dict(update, update_id=next(self._ids))
        self.queue.append(update)
        self._news.set()
        if self.webhook_url:
            task = asyncio.create_task(self._deliver(update))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return update

    def add_file(self, data: bytes, file_path: str) -> tuple[str, str]:
        """A file users sent: (file_id, file_unique_id) to put in an update."""
        file_id = "BQAC" + secrets.token_urlsafe(30)
        self.api.files[file_id] = (file_path, data)
        return file_id, "AQAD" + secrets.token_urlsafe(8)

    async def delivered(self) -> None:
        """Wait until every webhook delivery started so far has been answered."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    # --- methods ------------------------------------------------------------------------------

    async def _get_updates(self, call: Call) -> list[dict[str, Any]]:
        if self.webhook_url:
            raise BotApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use "
                "deleteWebhook to delete the webhook first",
            )
        offset = int(call.params.get("offset") or 0)
        limit = min(max(int(call.params.get("limit") or 100), 1), 100)
        timeout = float(call.params.get("timeout") or 0)
        if "allowed_updates" in call.params:
            self.allowed_updates = call.json_param("allowed_updates") or None
        if offset < 0:
            self.queue = self.queue[offset:]
        elif offset:
            self.queue = [u for u in self.queue if u["update_id"] >= offset]
        if not self._visible() and timeout > 0:
            self._news.clear()
            try:
                await asyncio.wait_for(self._news.wait(), timeout)
            except TimeoutError:
                pass
        return self._visible()[:limit]

    def _visible(self) -> list[dict[str, Any]]:
        if self.allowed_updates is None:
            return list(self.queue)
        return [u for u in self.queue if any(kind in u for kind in self.allowed_updates)]

    async def _set_webhook(self, call: Call) -> bool:
        url = call.params.get("url", "")
        if url and not url.startswith(("https://", "http://127.0.0.1")):
            raise BotApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided")
        self.webhook_url = url
        self.secret_token = call.params.get("secret_token")
        if "allowed_updates" in call.params:
            self.allowed_updates = call.json_param("allowed_updates") or None
        if call.params.get("drop_pending_updates") in ("true", "True"):
            self.queue.clear()
        for update in list(self.queue) if url else []:
            task = asyncio.create_task(self._deliver(update))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return True

    async def _delete_webhook(self, call: Call) -> bool:
        self.webhook_url, self.secret_token = "", None
        if call.params.get("drop_pending_updates") in ("true", "True"):
            self.queue.clear()
        return True

    async def _get_webhook_info(self, call: Call) -> dict[str, Any]:
        return {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self.queue),
        }

    async def _get_file(self, call: Call) -> dict[str, Any]:
        file_id = call.params.get("file_id", "")
        if file_id not in self.api.files:
            raise BotApiError(400, "Bad Request: invalid file_id")
        path, data = self.api.files[file_id]
        return {
            "file_id": file_id,
            "file_unique_id": "AQAD" + file_id[-8:],
            "file_size": len(data),
            "file_path": path,
        }

    # --- webhook delivery ---------------------------------------------------------------------

    async def _deliver(self, update: dict[str, Any]) -> None:
        headers = {"Content-Type": "application/json"}
        if self.secret_token:
            headers[SECRET_HEADER] = self.secret_token
        async with aiohttp.ClientSession() as http:
            try:
                async with http.post(
                    self.webhook_url, data=json.dumps(update), headers=headers
                ) as resp:
                    status = resp.status
            except aiohttp.ClientError:
                status = 0
        self.deliveries.append(Delivery(update["update_id"], status))
        if 200 <= status < 300 and update in self.queue:
            self.queue.remove(update)
