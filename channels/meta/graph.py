"""A small Graph API client shared by the Instagram and Facebook channels: paging, usage, errors."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import aiohttp
from pydantic import SecretStr

from channels.base import PlatformError
from channels.media_hosts import checked_id, same_origin

log = logging.getLogger(__name__)

GRAPH_API_BASE = "https://graph.facebook.com/v23.0"

# Throttling: app, user, page, custom and Business Use Case limits (Graph's error reference).
THROTTLE_CODES = frozenset({4, 17, 32, 341, 613, *range(80001, 80010)})
TRANSIENT_CODES = frozenset({1, 2})
TOKEN_CODE = 190
# 458 app removed, 459 checkpoint, 460 password changed, 463 expired, 464 unconfirmed user,
# 467 invalid token: none heals without a new token from the operator.
TOKEN_SUBCODES = frozenset({458, 459, 460, 463, 464, 467})
DEFAULT_THROTTLE = timedelta(minutes=5)  # when Graph names no time to regain access


class GraphError(PlatformError):
    """A Graph call answered with an error body (or none at all)."""

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        code: str | None,
        status: int,
        subcode: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, retryable=retryable, code=code, retry_after=retry_after)
        self.status = status
        self.subcode = subcode


class GraphThrottled(GraphError):
    """Graph asks us to slow down; `retry_after` is how long, in seconds."""


class GraphTokenInvalid(GraphError):
    """The page token expired or was revoked: nothing works until the operator sets a new one."""


@dataclass(frozen=True, slots=True)
class Usage:
    """How close the last answer said we are to Graph's limits, in percent (0-100+)."""

    percent: float = 0.0
    regain_minutes: float = 0.0  # Business Use Case estimated_time_to_regain_access

    @classmethod
    def from_headers(cls, headers: Any) -> Usage:
        percent, regain = 0.0, 0.0
        for header in ("X-App-Usage", "X-Page-Usage", "X-Ad-Account-Usage"):
            percent = max(percent, _max_percent(_json(headers.get(header))))
        buc = _json(headers.get("X-Business-Use-Case-Usage"))
        if isinstance(buc, dict):
            for entries in buc.values():
                for entry in entries if isinstance(entries, list) else []:
                    percent = max(percent, _max_percent(entry))
                    regain = max(regain, _number(entry.get("estimated_time_to_regain_access")))
        return cls(percent, regain)


class GraphClient:
    """GET and POST against Graph with a page token; one per channel, on the shared session.

    Every answer's usage headers are kept in `usage`; once it passes `slow_at` percent each
    further call first waits `pause` seconds (more the closer to the limit), so a busy poll
    thins out before Graph starts refusing calls.
    """

    def __init__(
        self,
        *,
        api_base: str,
        access_token: SecretStr,
        http: aiohttp.ClientSession,
        timeout: float = 30.0,
        slow_at: float = 75.0,
        pause: float = 1.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.api_base = api_base.rstrip("/")
        self.access_token = access_token
        self.http = http
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.slow_at = slow_at
        self.pause = pause
        self.sleep = sleep
        self.usage = Usage()
        self.calls = 0

    def __repr__(self) -> str:
        return f"GraphClient(api_base={self.api_base!r}, usage={self.usage.percent:g}%)"

    def url(self, path: str) -> str:
        """`path` under api_base, each segment a plain id; an absolute URL only on api_base."""
        if path.startswith(("http://", "https://")):
            if not same_origin(path, self.api_base):
                raise PlatformError(
                    "refused a Graph URL off the configured api_base", retryable=False,
                    code="host_refused",
                )
            return path
        for segment in path.split("/"):
            checked_id(segment, "Graph path segment")  # "../" would leave the API version
        return f"{self.api_base}/{path}"

    async def get(self, path: str, params: dict[str, str] | None = None) -> dict[str, Any]:
        return await self._call("GET", self.url(path), params=params)

    async def post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        return await self._call("POST", self.url(path), payload=payload)

    async def pages(
        self, path: str, params: dict[str, str], *, max_pages: int = 100
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """Each page's `data`, following the absolute `paging.next` URLs to the end."""
        try:
            url: str | None = self.url(path)
        except PlatformError as exc:  # one odd id in a listing must not stop the whole poll
            log.warning("Graph listing %r skipped: %s", path[:120], exc)
            return
        query: dict[str, str] | None = params
        seen: set[str] = set()
        for _ in range(max_pages):
            if url is None or url in seen:  # a `next` that points back would loop forever
                return
            seen.add(url)
            body = await self._call("GET", url, params=query)
            data = body.get("data")
            yield (
                [item for item in data if isinstance(item, dict)] if isinstance(data, list) else []
            )
            paging = body.get("paging") if isinstance(body.get("paging"), dict) else {}
            following = _without_token(paging.get("next"))
            if following and not same_origin(following, self.api_base):
                # The page token goes nowhere but api_base: the listing ends here instead.
                host = urlsplit(following).netloc[:120]
                log.warning("Graph paging.next points to %r, off api_base: listing stopped", host)
                following = None
            url, query = (
                (following, None)
                if isinstance(following, str) and following
                else (
                    None,
                    None,
                )
            )

    async def _call(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, str] | None = None,
        payload: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        if self.usage.percent >= self.slow_at:
            span = max(100.0 - self.slow_at, 1.0)
            await self.sleep(self.pause * (1 + 4 * (self.usage.percent - self.slow_at) / span))
        if not same_origin(url, self.api_base):  # the page token goes to api_base only
            raise PlatformError("refused a Graph URL off the configured api_base",
                                retryable=False, code="host_refused")
        headers = {"Authorization": f"Bearer {self.access_token.get_secret_value()}"}
        self.calls += 1
        try:
            async with self.http.request(
                method, url, params=params, json=payload, headers=headers, timeout=self.timeout
            ) as resp:
                text = await resp.text()
                status = resp.status
                self.usage = Usage.from_headers(resp.headers)
                retry_after = _number(resp.headers.get("Retry-After")) or None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise GraphError(
                f"Graph unreachable: {exc!r}", retryable=True, code=None, status=0
            ) from exc
        body = _json(text)
        if status == 200 and isinstance(body, dict) and "error" not in body:
            return body
        raise error_from(status, body, text, self.usage, retry_after)


def error_from(
    status: int, body: Any, text: str, usage: Usage, retry_after: float | None = None
) -> GraphError:
    """A Graph error answer as a typed error, keyed off `error.code`, never the message text."""
    error = body.get("error") if isinstance(body, dict) else None
    error = error if isinstance(error, dict) else {}
    code = error.get("code")
    number = int(code) if isinstance(code, int | str) and str(code).isdigit() else None
    subcode = error.get("error_subcode")
    subcode = int(subcode) if isinstance(subcode, int | str) and str(subcode).isdigit() else None
    message = str(error.get("message") or text[:300] or f"HTTP {status}")
    label = str(number) if number is not None else f"http-{status}"
    described = f"Graph HTTP {status} code {label}: {message}"
    if number == TOKEN_CODE and (subcode is None or subcode in TOKEN_SUBCODES):
        return GraphTokenInvalid(
            described, retryable=False, code=label, status=status, subcode=subcode
        )
    if number in THROTTLE_CODES or status == 429:
        wait = usage.regain_minutes * 60 or retry_after or DEFAULT_THROTTLE.total_seconds()
        return GraphThrottled(
            described, retryable=True, code=label, status=status, subcode=subcode, retry_after=wait
        )
    transient = number in TRANSIENT_CODES or bool(error.get("is_transient"))
    retryable = transient or (number is None and (status >= 500 or status == 0))
    return GraphError(described, retryable=retryable, code=label, status=status, subcode=subcode)


def _without_token(url: Any) -> str | None:
    """Graph's `next` URLs carry the token; it goes in the header instead, never in a URL
    that an error message or a log line might show."""
    if not isinstance(url, str) or not url:
        return None
    parts = urlsplit(url)
    query = [
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "access_token"
    ]
    return urlunsplit(parts._replace(query=urlencode(query)))


def graph_time(value: Any) -> datetime | None:
    """Graph's "2021-07-23T09:50:48+0000" (or ISO 8601 with a colon) as an aware datetime."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo is not None else None


def _max_percent(values: Any) -> float:
    if not isinstance(values, dict):
        return 0.0
    keys = ("call_count", "total_time", "total_cputime", "call_volume", "cpu_time")
    return max((_number(values.get(key)) for key in keys), default=0.0)


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def _json(text: Any) -> Any:
    if not isinstance(text, str) or not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None
