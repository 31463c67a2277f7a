"""A stand-in for the notifier's health recorder (channels.base.ChannelHealth) that keeps
every call, so a test can assert what a poller reported and in which order."""

from __future__ import annotations


class HealthLog:
    """Records what a channel or poll loop tells the notifier, one tuple per call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    def failing(self, channel: str, account: str, reason: str) -> None:
        self.calls.append(("failing", channel, account, reason))

    def working(self, channel: str, account: str) -> None:
        self.calls.append(("working", channel, account))
