"""Calls to the X API v2 through tweepy's Client, with rate-limit bookkeeping per endpoint."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

import requests
import tweepy

from channels.base import PlatformError
from channels.x.config import TWEEPY_HOST

# Used when a 429 comes without x-rate-limit-reset: wait, never retry at once.
DEFAULT_RESET_SECONDS = 60.0


class HostSession(requests.Session):
    """The seam that points tweepy at another host (a local fake in tests).

    tweepy's Client sends every call through `self.session.request(method, url, ...)`, so a
    Session that swaps the hard-coded host for `api_base` is the one supported, documented
    attribute to replace; OAuth 1.0a is signed after the swap (requests applies `auth` while
    preparing the request), so signatures cover the URL actually called. It also gives every
    call a timeout, which tweepy never sets.
    """

    def __init__(self, api_base: str, timeout: float) -> None:
        super().__init__()
        self.api_base = api_base.rstrip("/")
        self.timeout = timeout

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        if isinstance(url, str) and url.startswith(TWEEPY_HOST):
            url = self.api_base + url.removeprefix(TWEEPY_HOST)
        kwargs.setdefault("timeout", self.timeout)
        return super().request(method, url, *args, **kwargs)


@dataclass(slots=True)
class Limit:
    remaining: int | None = None
    reset: float | None = None  # epoch seconds


class RateLimits:
    """x-rate-limit-remaining / -reset as last seen, per endpoint: who must wait, and how long."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.clock = clock
        self.limits: dict[str, Limit] = {}

    def wait_seconds(self, endpoint: str) -> float:
        """0 when a call may go out now; else the seconds until the window resets."""
        limit = self.limits.get(endpoint)
        if limit is None or limit.reset is None or limit.remaining is None or limit.remaining > 0:
            return 0.0
        return max(limit.reset - self.clock().timestamp(), 0.0)

    def note(self, endpoint: str, headers: Any) -> None:
        remaining, reset = _int(headers.get("x-rate-limit-remaining")), _int(headers.get(
            "x-rate-limit-reset"
        ))
        if remaining is not None or reset is not None:
            self.limits[endpoint] = Limit(remaining, reset)

    def exhausted(self, endpoint: str, headers: Any) -> float:
        """A 429: nothing more until the reset X named (or a minute); returns the wait."""
        reset = _int(headers.get("x-rate-limit-reset"))
        now = self.clock().timestamp()
        if reset is None or reset <= now:
            reset = int(now + DEFAULT_RESET_SECONDS)
        self.limits[endpoint] = Limit(0, reset)
        return reset - now


@dataclass(frozen=True, slots=True)
class Credentials:
    bearer_token: str
    consumer_key: str
    consumer_secret: str
    access_token: str
    access_token_secret: str


class XApi:
    """The calls Kanal makes; blocking tweepy calls run in a worker thread each."""

    def __init__(
        self, credentials: Credentials, api_base: str, timeout: float,
        clock: Callable[[], datetime],
    ) -> None:
        self.client = tweepy.Client(
            bearer_token=credentials.bearer_token or None,
            consumer_key=credentials.consumer_key or None,
            consumer_secret=credentials.consumer_secret or None,
            access_token=credentials.access_token or None,
            access_token_secret=credentials.access_token_secret or None,
            # Raw responses keep the rate-limit headers that tweepy's Response drops; waiting
            # is ours to decide (tweepy's own wait sleeps the thread and retries without end).
            return_type=requests.Response,
            wait_on_rate_limit=False,
        )
        self.client.session = HostSession(api_base, timeout)
        self.limits = RateLimits(clock)
        # Its own threads: a slow X (up to the request timeout per call) never holds the
        # default executor that intake and the other channels share. Made on first use.
        self._threads: ThreadPoolExecutor | None = None
        # App-only Bearer has the larger mentions bucket; DMs and writes need the user.
        self.mentions_user_auth = not credentials.bearer_token

    async def call(self, endpoint: str, method: Callable[..., Any], **kwargs: Any) -> Any:
        """One API call's JSON body, or PlatformError; honours a known empty bucket."""
        wait = self.limits.wait_seconds(endpoint)
        if wait > 0:
            raise PlatformError(
                f"X rate limit for {endpoint} reached; resets in {wait:.0f}s",
                retryable=True, code="429", retry_after=wait,
            )
        try:
            if self._threads is None:
                self._threads = ThreadPoolExecutor(max_workers=2, thread_name_prefix="x-api")
            loop = asyncio.get_running_loop()
            response = await loop.run_in_executor(self._threads, partial(method, **kwargs))
        except tweepy.TooManyRequests as exc:
            wait = self.limits.exhausted(endpoint, exc.response.headers)
            raise PlatformError(
                f"X answered 429 for {endpoint}: {_messages(exc)}",
                retryable=True, code="429", retry_after=wait,
            ) from exc
        except tweepy.TwitterServerError as exc:
            self.limits.note(endpoint, exc.response.headers)
            raise PlatformError(
                f"X server error {exc.response.status_code}: {_messages(exc)}",
                retryable=True, code=str(exc.response.status_code),
            ) from exc
        except tweepy.HTTPException as exc:
            self.limits.note(endpoint, exc.response.headers)
            codes = ",".join(str(c) for c in exc.api_codes) if exc.api_codes else ""
            code = str(exc.response.status_code) + (f":{codes}" if codes else "")
            raise PlatformError(
                f"X refused {endpoint} ({exc.response.status_code}): {_messages(exc)}",
                retryable=False, code=code,
            ) from exc
        except (requests.RequestException, tweepy.TweepyException) as exc:
            raise PlatformError(f"X unreachable: {exc!r}", retryable=True) from exc
        self.limits.note(endpoint, response.headers)
        try:
            return response.json()
        except ValueError as exc:
            raise PlatformError("X answered no JSON", retryable=True) from exc


    def close(self) -> None:
        """Let running calls finish in the background; a later call makes new threads."""
        threads, self._threads = self._threads, None
        if threads is not None:
            threads.shutdown(wait=False, cancel_futures=True)


def _messages(exc: tweepy.HTTPException) -> str:
    found = "; ".join(str(m) for m in exc.api_messages if m)
    if found:
        return found
    try:
        return json.dumps(exc.response.json())[:300]
    except ValueError:
        return exc.response.text[:300]


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
