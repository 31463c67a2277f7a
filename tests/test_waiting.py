"""support.waiting.until: the check's first truthy answer, or a failure that names the check."""

from __future__ import annotations

import itertools

import pytest

from support.waiting import until


async def test_a_plain_check_is_asked_again_until_it_answers() -> None:
    answers = itertools.chain([None, 0, []], itertools.repeat(["row"]))
    assert await until(lambda: next(answers), timeout=5, interval=0) == ["row"]


async def test_an_async_check_is_awaited() -> None:
    calls = []

    async def committed() -> int | None:
        calls.append(1)
        return len(calls) if len(calls) == 3 else None

    assert await until(committed, timeout=5, interval=0) == 3


async def test_a_check_that_never_holds_fails_with_its_name_and_last_answer() -> None:
    def never() -> int:
        return 0

    with pytest.raises(AssertionError, match=r"never \(test_waiting\.py:\d+\) still gave 0 after"):
        await until(never, timeout=0.1)
