"""Waiting in a test for what a background task, a server or another process brings about.

No event announces a row committed by the outbox's thread or a cursor a poller saved, so tests
ask again every `interval` until the answer is truthy or `timeout` runs out.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def until(
    check: Callable[[], T | Awaitable[T | None] | None],
    timeout: float = 30.0,  # noqa: ASYNC109 - the bound is what callers choose, per wait
    interval: float = 0.02,
) -> T:
    """The first truthy answer of `check`; an AssertionError naming it after `timeout` seconds.

    An async check is awaited. A plain one runs in a worker thread, so a database query never
    stalls the servers under test that share this event loop.
    """
    answer: object = None
    try:
        async with asyncio.timeout(timeout):
            while not (answer := await _ask(check)):
                await asyncio.sleep(interval)
    except TimeoutError:
        raise AssertionError(
            f"{_described(check)} still gave {answer!r} after {timeout:g}s"
        ) from None
    return answer  # type: ignore[return-value]


async def _ask(check: Callable[[], object]) -> object:
    if inspect.iscoroutinefunction(check):
        return await check()
    answer = await asyncio.to_thread(check)
    return await answer if inspect.isawaitable(answer) else answer


def _described(check: Callable[..., object]) -> str:
    """Where the check is written, which says more than `<lambda>`."""
    name = getattr(check, "__qualname__", repr(check))
    code = getattr(check, "__code__", None)
    if code is None:
        return name
    return f"{name} ({code.co_filename.rsplit('/', 1)[-1]}:{code.co_firstlineno})"
