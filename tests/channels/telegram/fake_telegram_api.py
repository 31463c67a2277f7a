"""A local Telegram Bot API server for tests, usable by python-telegram-bot through base_url.

Follows the published Bot API: every method is POST /bot<token>/<method> with a form-encoded or
multipart body (PTB never sends JSON bodies; non-string values arrive JSON-encoded in their
field), answered with {"ok": true, "result": ...} or {"ok": false, "error_code": N,
"description": "...", "parameters": {"retry_after": N}}. Files are served from
/file/bot<token>/<file_path>. Point PTB at it with
`Bot(token, base_url=fake.base_url, base_file_url=fake.base_file_url)`.

Methods live in one dispatch table, `self.methods` (name -> handler); a test or another module
adds a method by putting a handler there. A handler takes a `Call` and returns the `result`
object, or raises `BotApiError`. The incoming side (update queue, getUpdates, setWebhook and
webhook delivery, getFile) is added that way by `fake_telegram_updates.TelegramUpdates`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from aiohttp import web

from support.local_server import serve_locally

BOT_ID = 7000000001
BOT_USERNAME = "kanal_test_bot"
MAX_TEXT = 4096
MAX_CAPTION = 1024
# Tags Telegram accepts with parse_mode=HTML (Bot API "HTML style").
HTML_TAGS = frozenset(
    "b strong i em u ins s strike del span tg-spoiler a tg-emoji code pre blockquote".split()
)


@dataclass
class Upload:
    """A file that came in a multipart body."""

    filename: str | None
    content_type: str
    data: bytes


@dataclass
class Call:
    """One request as the fake saw it: form fields as strings, uploads by field name."""

    method: str
    token: str
    params: dict[str, str]
    files: dict[str, Upload] = field(default_factory=dict)
    content_type: str = ""

    def json_param(self, name: str) -> Any:
        """A non-string parameter, which PTB JSON-encodes into its form field."""
        raw = self.params.get(name)
        return None if raw is None else json.loads(raw)


class BotApiError(Exception):
    """An error answer: HTTP status = error_code, as the Bot API does."""

    def __init__(self, code: int, description: str, retry_after: int | None = None):
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


# Real error bodies, as the Bot API words them.
def blocked() -> BotApiError:
    return BotApiError(403, "Forbidden: bot was blocked by the user")


def chat_not_found() -> BotApiError:
    return BotApiError(400, "Bad Request: chat not found")


def too_many_requests(retry_after: int = 3) -> BotApiError:
    return BotApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after)


def server_error() -> BotApiError:
    return BotApiError(502, "Bad Gateway")


@dataclass
class Failure:
    """An error answered for the next `times` calls of `method`."""

    method: str
    error: BotApiError
    times: int = 1


Handler = Callable[[Call], Awaitable[Any]]


class FakeTelegramBotApi:
    """Start with `await fake.start()`; `fake.calls` records every request in order."""

    def __init__(self, token: str = "123456:TEST-token", clock: Callable[[], float] = time.time):
        self.token = token
        self.clock = clock
        self.calls: list[Call] = []
        self.sent: list[dict[str, Any]] = []  # Message objects this fake answered with
        self.failures: list[Failure] = []
        self.blocked_chats: set[str] = set()  # chat ids answering 403 "bot was blocked"
        self.known_chats: set[str] | None = None  # None: every chat id exists
        self.files: dict[str, tuple[str, bytes]] = {}  # file_id -> (file_path, data)
        self._message_ids = itertools.count(1)
        self._arrived: asyncio.Condition | None = None
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.methods: dict[str, Handler] = {
            "getMe": self._get_me,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendDocument": self._send_document,
        }

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    async def start(self) -> FakeTelegramBotApi:
        self._arrived = asyncio.Condition()
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_post("/bot{token}/{method}", self._dispatch)
        app.router.add_get("/bot{token}/{method}", self._dispatch)
        app.router.add_get("/file/bot{token}/{file_path:.+}", self._download)
        self._runner, self.port = await serve_locally(app)
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # --- test controls ------------------------------------------------------------------------

    def fail_next(self, method: str, error: BotApiError, times: int = 1) -> None:
        self.failures.append(Failure(method, error, times))

    def calls_of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    async def wait_for(self, method: str, count: int) -> None:
        """Return once `count` calls of `method` arrived (bound it with asyncio.timeout)."""
        assert self._arrived is not None, "start() first"
        async with self._arrived:
            await self._arrived.wait_for(lambda: len(self.calls_of(method)) >= count)

    def bot_user(self) -> dict[str, Any]:
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "Kanal Test",
            "username": BOT_USERNAME,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    # --- transport ----------------------------------------------------------------------------

    async def _dispatch(self, request: web.Request) -> web.Response:
        call = await _read_call(request)
        self.calls.append(call)
        assert self._arrived is not None
        async with self._arrived:
            self._arrived.notify_all()
        try:
            if call.token != self.token:
                raise BotApiError(401, "Unauthorized")
            handler = self.methods.get(call.method)
            if handler is None:
                raise BotApiError(404, "Not Found")
            self._take_failure(call.method)
            result = await handler(call)
        except BotApiError as error:
            return web.json_response(error.body(), status=error.code)
        return web.json_response({"ok": True, "result": result})

    def _take_failure(self, method: str) -> None:
        for failure in self.failures:
            if failure.method == method:
                failure.times -= 1
                if failure.times <= 0:
                    self.failures.remove(failure)
                raise failure.error

    async def _download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(BotApiError(401, "Unauthorized").body(), status=401)
        path = request.match_info["file_path"]
        for file_path, data in self.files.values():
            if file_path == path:
                return web.Response(body=data, content_type="application/octet-stream")
        return web.json_response(BotApiError(404, "Not Found").body(), status=404)

    # --- methods ------------------------------------------------------------------------------

    async def _get_me(self, call: Call) -> dict[str, Any]:
        return self.bot_user()

    async def _send_message(self, call: Call) -> dict[str, Any]:
        text = call.params.get("text", "")
        if not text.strip():
            raise BotApiError(400, "Bad Request: message text is empty")
        if len(text) > MAX_TEXT:
            raise BotApiError(400, "Bad Request: message is too long")
        plain = _check_entities(text, call.params.get("parse_mode"))
        message = self._message(call)
        # Telegram answers with the text stripped of markup (entities are not modelled here).
        message["text"] = plain
        return self._accept(message)

    async def _send_photo(self, call: Call) -> dict[str, Any]:
        upload = self._input_file(call, "photo")
        message = self._message(call)
        file_id = self._store_file(upload, "photos")
        # Telegram answers with the sizes it made, largest last; the fake keeps one.
        message["photo"] = [
            {
                "file_id": file_id,
                "file_unique_id": file_id[-12:],
                "width": 320,
                "height": 240,
                "file_size": len(upload.data),
            }
        ]
        self._caption(call, message)
        return self._accept(message)

    async def _send_document(self, call: Call) -> dict[str, Any]:
        upload = self._input_file(call, "document")
        message = self._message(call)
        file_id = self._store_file(upload, "documents")
        message["document"] = {
            "file_id": file_id,
            "file_unique_id": file_id[-12:],
            "file_name": upload.filename or "document",
            "mime_type": upload.content_type,
            "file_size": len(upload.data),
        }
        self._caption(call, message)
        return self._accept(message)

    # --- helpers ------------------------------------------------------------------------------

    def _message(self, call: Call) -> dict[str, Any]:
        chat_id = call.params.get("chat_id", "")
        if not chat_id:
            raise BotApiError(400, "Bad Request: chat_id is empty")
        if chat_id in self.blocked_chats:
            raise blocked()
        if self.known_chats is not None and chat_id not in self.known_chats:
            raise chat_not_found()
        chat: dict[str, Any]
        if chat_id.lstrip("-").isdigit():
            number = int(chat_id)
            kind = "private" if number > 0 else "supergroup"
            chat = {"id": number, "type": kind}
            chat.update({"first_name": "Penerima"} if kind == "private" else {"title": "Grup"})
        else:
            chat = {"id": -1000000000001, "type": "channel", "title": chat_id, "username": chat_id}
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "from": {
                "id": BOT_ID,
                "is_bot": True,
                "first_name": "Kanal Test",
                "username": BOT_USERNAME,
            },
            "chat": chat,
            "date": int(self.clock()),
        }
        reply = call.json_param("reply_parameters")
        if reply and "message_id" in reply:
            # Telegram answers with the whole replied-to message; PTB needs at least its date.
            message["reply_to_message"] = {
                "message_id": reply["message_id"],
                "chat": chat,
                "date": message["date"],
            }
        return message

    def _caption(self, call: Call, message: dict[str, Any]) -> None:
        caption = call.params.get("caption")
        if caption is None:
            return
        if len(caption) > MAX_CAPTION:
            raise BotApiError(400, "Bad Request: message caption is too long")
        message["caption"] = _check_entities(caption, call.params.get("parse_mode"))

    def _input_file(self, call: Call, name: str) -> Upload:
        if name in call.files:
            return call.files[name]
        ref = call.params.get(name, "")
        for file_id, (_path, data) in self.files.items():
            if file_id == ref:
                return Upload(None, "application/octet-stream", data)
        if not ref:
            raise BotApiError(400, f"Bad Request: there is no {name} in the request")
        raise BotApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")

    def _store_file(self, upload: Upload, folder: str) -> str:
        file_id = "AgAC" + secrets.token_urlsafe(24)
        suffix = (upload.filename or "file").rsplit(".", 1)[-1]
        self.files[file_id] = (f"{folder}/file_{len(self.files)}.{suffix}", upload.data)
        return file_id

    def _accept(self, message: dict[str, Any]) -> dict[str, Any]:
        self.sent.append(message)
        return message


async def _read_call(request: web.Request) -> Call:
    params: dict[str, str] = {}
    files: dict[str, Upload] = {}
    content_type = request.content_type
    if content_type == "application/json":
        # The Bot API accepts JSON bodies too; PTB never sends them.
        for key, value in (await request.json()).items():
            params[key] = value if isinstance(value, str) else json.dumps(value)
    else:
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                files[key] = Upload(value.filename, value.content_type, value.file.read())
            else:
                params[key] = str(value)
    params.update({k: v for k, v in request.query.items() if k not in params})
    return Call(
        method=request.match_info["method"],
        token=request.match_info["token"],
        params=params,
        files=files,
        content_type=content_type,
    )


class _EntityChecker(HTMLParser):
    """Telegram's HTML parse mode: only its tags, properly nested, else 400."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.problem: str | None = None
        self.plain: list[str] = []

    def handle_data(self, data: str) -> None:
        self.plain.append(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in HTML_TAGS and self.problem is None:
            self.problem = f'Unsupported start tag "{tag}"'
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if (not self.open or self.open[-1] != tag) and self.problem is None:
            self.problem = f'Unexpected end tag "{tag}"'
        if self.open:
            self.open.pop()


def _check_entities(text: str, parse_mode: str | None) -> str:
    """The text as Telegram shows it; 400 when its HTML markup is not what Telegram accepts."""
    if parse_mode is None or parse_mode.upper() != "HTML":
        return text
    checker = _EntityChecker()
    checker.feed(text)
    checker.close()
    if checker.problem is None and checker.open:
        checker.problem = f'Can\'t find end tag corresponding to start tag "{checker.open[-1]}"'
    if checker.problem is not None:
        raise BotApiError(400, f"Bad Request: can't parse entities: {checker.problem}")
    return "".join(checker.plain)
