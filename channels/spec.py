"""What the registry knows of one channel (config model, factory, labels, platform rules) and the
one context object every channel is built from."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import import_module
from pathlib import Path
from typing import Any

import aiohttp

from channels.base import Channel, ChannelConfig, ChannelHealth

# Meta's customer-service window, the same for WhatsApp, Messenger and Instagram: free text may
# be sent for 24 hours after the user's last message; our own replies do not extend it.
META_REPLY_WINDOW = timedelta(hours=24)

# The languages every channel label must have; the same as triage.messages.LOCALES (a test
# checks), spelled here because channels/ imports nothing of ours outside itself.
LANGUAGES = ("id", "en")


@dataclass(frozen=True, slots=True)
class ChannelContext:
    """Everything a channel is built from: its `[channels.NAME]` table and the process' shared
    parts. A channel takes what it needs and leaves the rest."""

    config: Any  # the channel's own ChannelConfig subclass, as its spec names it
    data_dir: Path
    http: aiohttp.ClientSession
    clock: Callable[[], datetime]
    health: ChannelHealth | None = None  # the notifier's recorder (see channels.base)


@dataclass(frozen=True, slots=True)
class ChannelSpec:
    """One channel as the rest of Kanal sees it."""

    name: str  # the `[channels.NAME]` key and the `channel` column of every message
    config: type[ChannelConfig]
    build: Callable[[ChannelContext], Channel]
    labels: Mapping[str, str]  # the name people read, by language: {"id": ..., "en": ...}
    webhooks: bool  # it can take deliveries on webhook routes of the web app
    polls: bool  # it can fetch from the platform itself (one process at a time)
    # Free text is allowed only this long after the reporter's last message; outside it the
    # channel sends its approved template (Meta's customer-service window). None: no window.
    reply_window: timedelta | None = None

    def __post_init__(self) -> None:
        missing = [language for language in LANGUAGES if not self.labels.get(language)]
        if missing:
            raise ValueError(f"channel {self.name!r} has no label in {', '.join(missing)}")

    def label(self, language: str) -> str:
        try:
            return self.labels[language]
        except KeyError:
            raise KeyError(f"channel {self.name!r} has no label in {language!r}") from None


def imported(module: str, name: str) -> Callable[..., Channel]:
    """A channel class that is imported only when the channel is built: a library that only
    one channel needs (tweepy, python-telegram-bot: 15 MB together) stays out of every process
    that does not run that channel."""

    def construct(*args: Any) -> Channel:
        channel_class: Callable[..., Channel] = getattr(import_module(module), name)
        return channel_class(*args)

    return construct


def built_from(
    channel_class: Callable[..., Channel], *, shared_http: bool = True, polls: bool = True
) -> Callable[[ChannelContext], Channel]:
    """The usual factory: `channel_class(config, data_dir, [http,] clock)`, then the health
    recorder for a channel that polls (channels.base.ChannelHealth). A channel whose library
    brings its own connections takes no shared HTTP session."""

    def build(context: ChannelContext) -> Channel:
        http = (context.http,) if shared_http else ()
        channel = channel_class(context.config, context.data_dir, *http, context.clock)
        if polls:
            channel.health = context.health  # type: ignore[attr-defined]
        return channel

    return build
