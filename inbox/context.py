"""What the web app's handlers share, under typed application keys."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path

from aiohttp import web

from networks import Network
from store.db import Database
from store.leadership import Leadership
from triage.actions import TicketActions
from triage.config import CategoryConfig, OpdConfig


@dataclass
class InboxServices:
    db: Database
    actions: TicketActions
    tz: tzinfo
    categories: list[CategoryConfig] = field(default_factory=list)
    opds: list[OpdConfig] = field(default_factory=list)
    leaders: list[Leadership] = field(default_factory=list)  # singletons this process may run
    data_dir: Path | None = None  # where channels store fetched attachments
    # Reverse proxies whose X-Forwarded-*/Forwarded headers are believed (inbox/proxies.py).
    trusted_proxies: tuple[Network, ...] = ()
    demo: bool = False  # the simulated channel is on: the menu links its outbox (/demo/outbox)


SERVICES = web.AppKey("services", InboxServices)
