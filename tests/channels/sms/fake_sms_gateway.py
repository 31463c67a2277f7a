"""A local SMS Gateway for Android server for tests, and webhook deliveries signed as the phone
signs them.

Follows the published API (docs.sms-gate.app, android-sms-gateway/server and client-go):
POST {prefix}/messages (and the older {prefix}/message) with HTTP basic auth takes
{"id"?, "deviceId"?, "textMessage": {"text"}, "phoneNumbers": [...]} and answers 202 with the
message state {"id", "deviceId", "state": "Pending", "isHashed", "isEncrypted", "recipients",
"states"} and a Location header; a second message with the same id is 409; errors are
{"message": ...} with 400, 401, 409, 500 or 503 (queue full or the phone offline). The prefix is
"/3rdparty/v1" on the cloud and private servers, "" on the phone's own local server.

Deliveries: the phone POSTs {"deviceId", "event", "id", "payload", "webhookId"} with X-Timestamp
(Unix seconds) and X-Signature = hex HMAC-SHA256(signing key, raw body + timestamp).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiohttp import web

from support.local_server import serve_locally

PREFIX = "/3rdparty/v1"
DEVICE_ID = "yVULogr4Y1ksRfnos1Dsw"  # 21 characters, as the server's device ids are
_E164 = re.compile(r"\+[1-9]\d{6,14}")


@dataclass
class Received:
    path: str
    authorization: str | None
    body: Any


@dataclass
class FakeSmsGateway:
    username: str = "KANALSMS"
    password: str = "fake-gateway-password"
    prefix: str = PREFIX
    # HTTP statuses answered instead of accepting, one per call, e.g. [503, 500].
    failures: list[int] = field(default_factory=list)
    requests: list[Received] = field(default_factory=list)  # every POST, also refused ones
    accepted: dict[str, dict[str, Any]] = field(default_factory=dict)  # by message id
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _runner: web.AppRunner | None = None
    port: int = 0

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.prefix}"

    async def start(self) -> FakeSmsGateway:
        app = web.Application()
        for path in ("/messages", "/message"):
            app.router.add_post(self.prefix + path, self._post_message)
        self._runner, self.port = await serve_locally(app)
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def sent(self) -> list[dict[str, Any]]:
        return list(self.accepted.values())

    async def _post_message(self, request: web.Request) -> web.Response:
        raw = await request.read()
        authorization = request.headers.get("Authorization")
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        self.requests.append(Received(request.path, authorization, body))
        if not self._authorized(authorization):
            return _error(401, "Unauthorized")
        if self.failures:
            status = self.failures.pop(0)
            return _error(status, _REASONS.get(status, "failed to handle request"))
        problem = _invalid(body)
        if problem:
            return _error(400, problem)
        message_id = body.get("id") or f"fake{next(self._ids):017d}"
        if message_id in self.accepted:
            return _error(409, "message with the same ID already exists")
        self.accepted[message_id] = body
        state = _state(message_id, body)
        headers = {"Location": f"{self.prefix}/messages/{message_id}"}
        return web.json_response(state, status=202, headers=headers)

    def _authorized(self, header: str | None) -> bool:
        if not header or not header.startswith("Basic "):
            return False
        try:
            given = base64.b64decode(header.removeprefix("Basic ")).decode()
        except (ValueError, UnicodeDecodeError):
            return False
        return hmac.compare_digest(given, f"{self.username}:{self.password}")


_REASONS = {
    429: "Too Many Requests",
    500: "failed to handle request",
    503: "failed to enqueue message: queue limit exceeded",
}


def _invalid(body: Any) -> str | None:
    """What the server's validator refuses, for the fields Kanal sends."""
    if not isinstance(body, dict):
        return "invalid JSON body"
    kinds = [k for k in ("textMessage", "dataMessage", "message") if body.get(k)]
    if len(kinds) != 1:
        return "must specify exactly one of: textMessage or dataMessage"
    text = body.get("textMessage", {}).get("text") if kinds == ["textMessage"] else "x"
    if not isinstance(text, str) or not 1 <= len(text) <= 65535:
        return "textMessage.text must be 1 to 65535 characters"
    numbers = body.get("phoneNumbers")
    if not isinstance(numbers, list) or not 1 <= len(numbers) <= 100:
        return "phoneNumbers must hold 1 to 100 numbers"
    for number in numbers:
        if not isinstance(number, str) or not _E164.fullmatch(number):
            return f"invalid phone number: {number!r}"
    if len(str(body.get("id", ""))) > 36 or len(str(body.get("deviceId", ""))) > 21:
        return "id is at most 36 and deviceId at most 21 characters"
    return None


def _state(message_id: str, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": message_id,
        "deviceId": body.get("deviceId") or DEVICE_ID,
        "state": "Pending",
        "isHashed": False,
        "isEncrypted": False,
        "recipients": [{"phoneNumber": n, "state": "Pending"} for n in body["phoneNumbers"]],
        "states": {"Pending": datetime.now(UTC).isoformat()},
    }


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"message": message}, status=status)


# --- deliveries, as the phone sends them -------------------------------------------------------


def signature(body: bytes, timestamp: str, key: str) -> str:
    return hmac.new(key.encode(), body + timestamp.encode(), hashlib.sha256).hexdigest()


def signed_headers(body: bytes, key: str, at: datetime) -> dict[str, str]:
    stamp = str(int(at.timestamp()))
    return {
        "Content-Type": "application/json",
        "X-Timestamp": stamp,
        "X-Signature": signature(body, stamp, key),
    }


async def deliver(
    http: aiohttp.ClientSession,
    url: str,
    body: bytes | dict[str, Any],
    *,
    key: str | None,
    at: datetime,
    headers: dict[str, str] | None = None,
) -> int:
    """POST one delivery; signed with `key` at `at`, unsigned when key is None. Answers the
    HTTP status."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    sent = signed_headers(raw, key, at) if key is not None else {}
    sent |= headers or {}
    async with http.post(url, data=raw, headers=sent) as response:
        await response.read()
        return response.status


def event(kind: str, payload: dict[str, Any], delivery_id: str) -> dict[str, Any]:
    """A delivery body the way the phone writes one."""
    return {
        "deviceId": "ffffffffceb0b1db0000018e937c815b",
        "event": kind,
        "id": delivery_id,
        "payload": payload,
        "webhookId": "kanal-sms-received",
    }
