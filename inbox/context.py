"""What the web app's handlers share, under typed application keys."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path

from aiohttp import web

from networks import Network
from store.db import Database
from store.leadership import Leadership
from store.models import User
from triage.actions import TicketActions
from triage.answer_files import KNOWN_TYPES, FileRules
from triage.canned import CannedReply
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
    # Channels that still send, as an approved template, once their reply window has closed.
    after_window: frozenset[str] = frozenset()
    canned: list[CannedReply] = field(default_factory=list)  # from config.toml
    demo: bool = False  # the simulated channel is on: the menu links its outbox (/demo/outbox)
    # What files an OPD's answer takes (`[triage] answer_file_*`).
    answer_files: FileRules = field(
        default_factory=lambda: FileRules(10 * 1024 * 1024, frozenset(KNOWN_TYPES), 5)
    )
    # Signs the public links to files sent to reporters (inbox/public_files.py).
    link_secret: bytes = field(default=b"", repr=False)


SERVICES = web.AppKey("services", InboxServices)


@dataclass(frozen=True, slots=True)
class Visitor:
    """Who is browsing: the signed-in user, the session's CSRF token and its cookie."""

    user: User
    csrf: str
    token: str

    @property
    def locale(self) -> str:
        return "en" if self.user.locale == "en" else "id"


VISITOR_KEY = web.RequestKey("visitor", Visitor)
