"""Channel health: the recorder channels report to (channels.base.ChannelHealth), and the sweep
that keeps the `channel_health` table and alerts admins once when an account stops and once
when it recovers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from store.models import ChannelHealthState

DOWN, OK = "down", "ok"


@dataclass(frozen=True)
class HealthChange:
    channel: str
    account: str
    state: str  # "down" or "ok"
    reason: str | None
    since: datetime


class HealthRecorder:
    """In-memory and non-blocking (channels call it from their loops); the notifier's sweep
    takes the changes and writes them to the database."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.clock = clock
        self._state: dict[tuple[str, str], str] = {}
        self._changes: dict[tuple[str, str], HealthChange] = {}

    def failing(self, channel: str, account: str, reason: str) -> None:
        self._set(channel, account, DOWN, reason)

    def working(self, channel: str, account: str) -> None:
        self._set(channel, account, OK, None)

    def _set(self, channel: str, account: str, state: str, reason: str | None) -> None:
        key = (channel, account)
        if self._state.get(key) == state:
            return
        self._state[key] = state
        self._changes[key] = HealthChange(channel, account, state, reason, self.clock())

    def take_changes(self) -> list[HealthChange]:
        changes, self._changes = list(self._changes.values()), {}
        return changes

    def give_back(self, changes: list[HealthChange]) -> None:
        """Changes the sweep could not store: kept for the next sweep unless superseded."""
        for change in changes:
            self._changes.setdefault((change.channel, change.account), change)


def apply_change(session: Session, change: HealthChange, now: datetime) -> str | None:
    """Store the change; the state to alert admins about ("down"/"ok"), or None for no alert.

    A first report of "ok" is not news; "down" is alerted once, and "ok" only after an alerted
    "down", so a process restart does not repeat either alert."""
    row = session.get(ChannelHealthState, (change.channel, change.account))
    if row is None:
        row = ChannelHealthState(
            channel=change.channel,
            account=change.account,
            state=change.state,
            since=change.since,
            updated_at=now,
        )
    if row.state != change.state:
        row.since = change.since
    row.state, row.reason, row.updated_at = change.state, change.reason, now
    alert: str | None = None
    if change.state == DOWN and row.alerted_state != DOWN:
        alert = DOWN
    elif change.state == OK and row.alerted_state == DOWN:
        alert = OK
    if alert is not None or row.alerted_state is None:
        row.alerted_state = change.state
    session.add(row)
    return alert
