"""How long a failed send waits: doubling, capped at an hour, spread so that what failed
together in an outage is not all tried again in the same second (replies and staff
notifications alike)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from notifier import deliveries
from triage import outbox


@pytest.mark.parametrize(("backoff", "first"), [(outbox.backoff, 30), (deliveries.backoff, 60)])
def test_the_wait_doubles_up_to_an_hour_and_is_spread_by_up_to_a_fifth(backoff, first) -> None:
    assert [backoff(n, spread=0) for n in (1, 2, 3)] == [
        timedelta(seconds=first * m) for m in (1, 2, 4)
    ]
    assert backoff(20, spread=0) == timedelta(hours=1)
    assert backoff(20, spread=1) == timedelta(minutes=48)
    waits = {backoff(3) for _ in range(50)}
    assert len(waits) > 40  # never the same second for everyone
    assert all(
        timedelta(seconds=first * 4 * 0.8) <= w <= timedelta(seconds=first * 4) for w in waits
    )
