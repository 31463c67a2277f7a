"""A local WhatsApp Cloud API (Graph) server for tests; webhooks are in whatsapp_webhooks.py.

Follows the published API: POST /{version}/{phone_number_id}/messages answers
{"messaging_product", "contacts", "messages"}; GET /{version}/{media_id} answers the media object
whose url points at /whatsapp_business/attachments/ on this server, downloadable with the same
Bearer token; errors use Graph's body {"error": {message, type, code, error_subcode, error_data,
fbtrace_id}}. POST /{version}/{phone_number_id}/media takes a multipart upload (messaging_product,
type, file) and answers {"id"}; image and document messages name such an id. api_base is
"http://127.0.0.1:PORT/v23.0". With `status_hook` set it reports each
accepted message's statuses to our webhook, signed, as Meta does.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from fake_whatsapp_webhooks import post_webhook, status_webhook
from support.local_server import serve_locally

VERSION = "v23.0"


@dataclass
class Received:
    method: str
    path: str
    authorization: str | None
    body: Any = None


@dataclass
class Failure:
    """An error the fake answers with, `times` times, for one endpoint."""

    status: int
    code: int
    message: str
    error_type: str = "OAuthException"
    subcode: int | None = None
    details: str | None = None
    retry_after: str | None = None
    times: int = 1


@dataclass
class Upload:
    media_id: str
    file_name: str
    mime_type: str
    data: bytes


# What POST /media takes (Graph's supported media types, the ones Kanal may send).
UPLOAD_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "application/pdf"})
MEDIA_TYPES = ("image", "document")


@dataclass
class Media:
    data: bytes
    mime_type: str
    sha256: str = ""  # what the media object announces; the real digest unless told otherwise
    lookup_failures: list[int] = field(default_factory=list)  # HTTP statuses, one per call
    download_failures: list[int] = field(default_factory=list)
    # What the lookup answers as `url` instead of this server's own (a platform pointing
    # elsewhere, to test that the token does not follow).
    url: str | None = None


def graph_error(failure: Failure) -> dict[str, Any]:
    error: dict[str, Any] = {
        "message": failure.message,
        "type": failure.error_type,
        "code": failure.code,
        "fbtrace_id": "A" + secrets.token_urlsafe(15),
    }
    if failure.subcode is not None:
        error["error_subcode"] = failure.subcode
    if failure.details is not None:
        error["error_data"] = {"messaging_product": "whatsapp", "details": failure.details}
    return {"error": error}


# Real shapes of common errors, from Meta's error-code reference.
RATE_LIMIT_429 = Failure(
    429,
    130429,
    "(#130429) Rate limit hit",
    details="Cloud API message throughput has been reached.",
    retry_after="2",
)
THROUGHPUT_400 = Failure(
    400,
    130429,
    "(#130429) Rate limit hit",
    details="Cloud API message throughput has been reached.",
)
PAIR_RATE_LIMIT = Failure(
    400,
    131056,
    "(#131056) (Business Account, Consumer Account) pair rate limit hit",
    details="Message failed to send because there were too many messages sent from this phone "
    "number to the same phone number in a short period of time.",
)
RE_ENGAGEMENT = Failure(
    400,
    131047,
    "(#131047) Re-engagement message",
    details="Message failed to send because more than 24 hours have passed since the customer "
    "last replied to this number.",
)
UNDELIVERABLE = Failure(400, 131026, "(#131026) Message Undeliverable")
INVALID_PARAMETER = Failure(400, 100, "(#100) Invalid parameter", details="Invalid parameter")
TOKEN_EXPIRED = Failure(
    401, 190, "Error validating access token: Session has expired.", subcode=463
)
SERVER_ERROR = Failure(
    500, 131000, "(#131000) Something went wrong", details="Something went wrong"
)
_NO_TOKEN = Failure(
    401, 190, "Invalid OAuth access token - Cannot parse access token", subcode=None
)


class FakeWhatsAppCloud:
    """Start with `await fake.start()`; `fake.api_base` is what WhatsAppConfig.api_base takes."""

    def __init__(
        self,
        *,
        access_token: str = "test-access-token",
        version: str = VERSION,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.access_token = access_token
        self.version = version
        self.clock = clock
        # Graph's limits, off unless set: messages per second per number (130429), and the
        # least time between two messages to one user (131056).
        self.throughput_limit: int | None = None
        self.pair_interval: float | None = None
        self._accepted_at: list[float] = []
        self._last_to: dict[str, float] = {}
        self.received: list[Received] = []
        self.sent: list[dict[str, Any]] = []  # bodies of accepted /messages calls
        self.media: dict[str, Media] = {}
        self.uploads: list[Upload] = []  # files taken by POST /{phone_number_id}/media
        self.failures: list[Failure] = []  # for /messages, used front first
        self.media_failures: list[Failure] = []  # for image and document messages only
        self._ids = itertools.count(1)
        self._arrived: asyncio.Condition | None = None
        # While cleared, downloads wait here: lets a test see how many run at once.
        self.download_gate: asyncio.Event | None = None
        self.downloads_in_flight = 0
        self.most_downloads_in_flight = 0
        self._runner: web.AppRunner | None = None
        self.port = 0
        # Where to report the fate of accepted messages, as Meta does by webhook.
        self.status_hook: tuple[str, str] | None = None  # (webhook url, app secret)
        self.status_sequence: tuple[str, ...] = ("sent", "delivered")
        self.async_failures: list[Failure] = []  # next sends: 200 now, "failed" status later
        self.hook_answers: list[int] = []  # our webhook's HTTP status for each status posted
        self.status_gate: asyncio.Event | None = None  # statuses wait for it when set up
        self.report_before_answer = False  # the worst case: statuses beat the send's answer
        self._hook_tasks: set[asyncio.Task[None]] = set()
        self._http: aiohttp.ClientSession | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base(self) -> str:
        return f"{self.base_url}/{self.version}"

    async def start(self) -> FakeWhatsAppCloud:
        self._arrived = asyncio.Condition()
        app = web.Application()
        app.router.add_post("/{version:v[0-9.]+}/{phone_number_id}/messages", self._messages)
        app.router.add_post("/{phone_number_id}/messages", self._messages)
        app.router.add_post("/{version:v[0-9.]+}/{phone_number_id}/media", self._upload)
        app.router.add_get("/whatsapp_business/attachments/", self._download)
        app.router.add_get("/{version:v[0-9.]+}/{media_id}", self._media_object)
        self._runner, self.port = await serve_locally(app)
        return self

    async def stop(self) -> None:
        await self.statuses_reported()
        if self._http is not None:
            await self._http.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def statuses_reported(self) -> None:
        """Return once every status webhook scheduled so far has been answered."""
        while self._hook_tasks:
            await asyncio.wait(set(self._hook_tasks))

    # --- test controls ------------------------------------------------------------------------

    def add_media(self, media_id: str, data: bytes, mime_type: str = "image/jpeg") -> Media:
        media = Media(data=data, mime_type=mime_type, sha256=hashlib.sha256(data).hexdigest())
        self.media[media_id] = media
        return media

    def fail_next(self, failure: Failure, times: int | None = None) -> None:
        if times is not None:
            failure = Failure(**{**failure.__dict__, "times": times})
        self.failures.append(failure)

    async def wait_for(self, method: str, path_prefix: str, count: int) -> None:
        """Return once `count` such requests have arrived (bound it with asyncio.timeout)."""
        assert self._arrived is not None, "start() first"
        async with self._arrived:
            await self._arrived.wait_for(lambda: self.count(method, path_prefix) >= count)

    async def _record(self, request: web.Request, body: Any = None) -> None:
        auth = request.headers.get("Authorization")
        self.received.append(Received(request.method, request.path, auth, body))
        assert self._arrived is not None
        async with self._arrived:
            self._arrived.notify_all()

    def count(self, method: str, path_prefix: str) -> int:
        return sum(
            1 for r in self.received if r.method == method and r.path.startswith(path_prefix)
        )

    # --- handlers -----------------------------------------------------------------------------

    def _authorized(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {self.access_token}"

    async def _messages(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            body = None
        await self._record(request, body)
        if not self._authorized(request):
            return web.json_response(graph_error(_NO_TOKEN), status=401)
        failures = self.media_failures if _is_media(body) else self.failures
        if failures:
            failure = failures[0]
            failure.times -= 1
            if failure.times <= 0:
                failures.pop(0)
            headers = {"Retry-After": failure.retry_after} if failure.retry_after else None
            return web.json_response(graph_error(failure), status=failure.status, headers=headers)
        problem = _invalid_message(body) or self._unknown_media(body) or self._over_limit(body)
        if problem:
            return web.json_response(graph_error(problem), status=400)
        wamid = f"wamid.FAKE{next(self._ids):08d}"
        self.sent.append(body)
        if self.status_hook is not None:
            failure = self.async_failures.pop(0) if self.async_failures else None
            states = ("failed",) if failure else self.status_sequence
            pnid = request.match_info["phone_number_id"]
            report = self._report(pnid, wamid, body, states, failure)
            if self.report_before_answer:
                await report
            else:
                task = asyncio.create_task(report)
                self._hook_tasks.add(task)
                task.add_done_callback(self._hook_tasks.discard)
        answer: dict[str, Any] = {
            "messaging_product": "whatsapp",
            "contacts": [_contact_answer(body)],
            "messages": [{"id": wamid}],
        }
        if body.get("type") == "template":
            answer["messages"][0]["message_status"] = "accepted"
        return web.json_response(answer)

    def _unknown_media(self, body: dict[str, Any]) -> Failure | None:
        kind = body.get("type")
        if kind in MEDIA_TYPES and body[kind].get("id") not in self.media:
            return Failure(400, 131053, "(#131053) Media upload error", details="unknown media id")
        return None

    async def _upload(self, request: web.Request) -> web.Response:
        """Like Graph: multipart with messaging_product=whatsapp, the file's type and `file`."""
        form = await request.post()
        await self._record(request, {k: str(v) for k, v in form.items() if k != "file"})
        if not self._authorized(request):
            return web.json_response(graph_error(_NO_TOKEN), status=401)
        upload = form.get("file")
        if form.get("messaging_product") != "whatsapp":
            problem = "(#100) The parameter messaging_product is required."
        elif not isinstance(upload, web.FileField):
            problem = "(#100) The parameter file is required."
        elif str(form.get("type", "")) not in UPLOAD_TYPES:
            problem = f"(#100) Param type must be one of {{{', '.join(sorted(UPLOAD_TYPES))}}}"
        else:
            problem = ""
        if problem:
            return web.json_response(graph_error(Failure(400, 100, problem)), status=400)
        assert isinstance(upload, web.FileField)
        data = upload.file.read()
        media_id = f"{next(self._ids) + 900000000000000}"
        self.add_media(media_id, data, str(form["type"]))
        self.uploads.append(Upload(media_id, upload.filename, str(form["type"]), data))
        return web.json_response({"id": media_id})

    def _over_limit(self, body: dict[str, Any]) -> Failure | None:
        now = self.clock()
        recipient = str(body.get("to") or body.get("recipient"))
        self._accepted_at = [t for t in self._accepted_at if now - t < 1.0]
        if self.throughput_limit is not None and len(self._accepted_at) >= self.throughput_limit:
            return THROUGHPUT_400
        last = self._last_to.get(recipient)
        if self.pair_interval is not None and last is not None and now - last < self.pair_interval:
            return PAIR_RATE_LIMIT
        self._accepted_at.append(now)
        self._last_to[recipient] = now
        return None

    async def _report(
        self,
        pnid: str,
        wamid: str,
        sent: dict[str, Any],
        states: tuple[str, ...],
        failure: Failure | None,
    ) -> None:
        """Post each status like Meta: signed, one delivery each, retried until answered 200."""
        assert self.status_hook is not None
        if self._http is None:
            self._http = aiohttp.ClientSession()
        url, secret = self.status_hook
        if self.status_gate is not None:
            await self.status_gate.wait()
        recipient = sent.get("to") or sent.get("recipient")
        for state in states:
            body = status_webhook(
                pnid,
                wamid,
                state,
                recipient_id=recipient,
                error=failure,
                callback_data=sent.get("biz_opaque_callback_data"),
            )
            for _ in range(5):
                status, _text = await post_webhook(self._http, url, body, secret)
                self.hook_answers.append(status)
                if status == 200:
                    break
                await asyncio.sleep(0.05)

    async def _media_object(self, request: web.Request) -> web.Response:
        media_id = request.match_info["media_id"]
        await self._record(request)
        if not self._authorized(request):
            return web.json_response(graph_error(_NO_TOKEN), status=401)
        media = self.media.get(media_id)
        if media is None:
            missing = Failure(
                400,
                100,
                f"Unsupported get request. Object with ID '{media_id}' does not exist",
                error_type="GraphMethodException",
                subcode=33,
            )
            return web.json_response(graph_error(missing), status=400)
        if media.lookup_failures:
            status = media.lookup_failures.pop(0)
            return web.json_response(graph_error(SERVER_ERROR), status=status)
        url = media.url or (
            f"{self.base_url}/whatsapp_business/attachments/?mid={media_id}"
            f"&ext=1700000000&hash=ATs{secrets.token_hex(8)}"
        )
        return web.json_response(
            {
                "messaging_product": "whatsapp",
                "url": url,
                "mime_type": media.mime_type,
                "sha256": media.sha256,
                "file_size": str(len(media.data)),  # a string, as Graph sends it
                "id": media_id,
            }
        )

    async def _download(self, request: web.Request) -> web.Response:
        await self._record(request)
        if not self._authorized(request):
            return web.json_response(graph_error(_NO_TOKEN), status=401)
        media = self.media.get(request.query.get("mid", ""))
        if media is None:
            return web.Response(status=404, text="Not Found")
        if media.download_failures:
            return web.Response(status=media.download_failures.pop(0), text="Service Unavailable")
        self.downloads_in_flight += 1
        self.most_downloads_in_flight = max(self.most_downloads_in_flight, self.downloads_in_flight)
        try:
            if self.download_gate is not None:
                await self.download_gate.wait()
        finally:
            self.downloads_in_flight -= 1
        return web.Response(body=media.data, content_type=media.mime_type.split(";")[0])


def _is_media(body: Any) -> bool:
    return isinstance(body, dict) and body.get("type") in MEDIA_TYPES


def _contact_answer(body: dict[str, Any]) -> dict[str, str]:
    """ "to" (a phone number) wins over "recipient" (a business-scoped user id), as in Graph."""
    if body.get("to"):
        return {"input": body["to"], "wa_id": body["to"]}
    return {"input": body["recipient"], "user_id": body["recipient"]}


def _invalid_message(body: Any) -> Failure | None:
    """The checks Graph makes on a send request that a client bug would trip."""
    if not isinstance(body, dict) or body.get("messaging_product") != "whatsapp":
        return Failure(400, 100, "(#100) The parameter messaging_product is required.")
    if not body.get("to") and not body.get("recipient"):
        return Failure(400, 100, "(#100) The parameter to is required.")
    kind = body.get("type", "text")
    if kind == "text" and not (body.get("text") or {}).get("body"):
        return Failure(400, 100, "(#100) The parameter text['body'] is required.")
    if kind == "template" and not (body.get("template") or {}).get("name"):
        return Failure(400, 100, "(#100) The parameter template['name'] is required.")
    if kind == "interactive":
        return _invalid_interactive(body.get("interactive"))
    if kind in MEDIA_TYPES and not (body.get(kind) or {}).get("id"):
        return Failure(400, 100, f"(#100) The parameter {kind}['id'] is required.")
    if kind not in ("text", "template", "interactive", *MEDIA_TYPES):
        return Failure(400, 100, f"(#100) Param type '{kind}' is not handled by this fake")
    return None


def _not_valid(details: str) -> Failure:
    """Graph's answer to a value outside the documented limits (131009, with the limit)."""
    return Failure(400, 131009, "(#131009) Parameter value is not valid", details=details)


def _invalid_interactive(interactive: Any) -> Failure | None:
    """The reply-button message's checks: 1-3 buttons, titles 1-20 characters and unique,
    ids 1-256, body text 1-1024 (Meta's interactive-message reference)."""
    if not isinstance(interactive, dict) or not interactive.get("type"):
        return Failure(400, 100, "(#100) The parameter interactive['type'] is required.")
    if interactive["type"] != "button":
        kind = interactive["type"]
        return Failure(400, 100, f"(#100) Interactive type '{kind}' is not handled by this fake")
    body = (interactive.get("body") or {}).get("text")
    if not isinstance(body, str) or not body:
        return Failure(400, 100, "(#100) The parameter interactive['body']['text'] is required.")
    if len(body) > 1024:
        return _not_valid("Body text length invalid. Min length: 1, Max length: 1024")
    buttons = (interactive.get("action") or {}).get("buttons")
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
        return _not_valid("Invalid buttons count. Min allowed buttons: 1, Max allowed buttons: 3")
    titles = []
    for button in buttons:
        reply = button.get("reply") if isinstance(button, dict) else None
        if not isinstance(reply, dict) or button.get("type") != "reply":
            return Failure(400, 100, "(#100) The parameter buttons[]['reply'] is required.")
        title, ident = str(reply.get("title") or ""), str(reply.get("id") or "")
        if not 1 <= len(title) <= 20:
            return _not_valid("Button title length invalid. Min length: 1, Max length: 20")
        if not 1 <= len(ident) <= 256:
            return _not_valid("Button id length invalid. Min length: 1, Max length: 256")
        titles.append(title)
    if len(set(titles)) != len(titles):
        return _not_valid("Button title must be unique")
    return None
