"""X (Twitter): mentions and direct messages polled through the X API v2, replies sent back."""

from __future__ import annotations

from channels.spec import ChannelSpec, built_from, imported
from channels.x.config import XConfig

SPEC = ChannelSpec(
    name="x",
    config=XConfig,
    build=built_from(imported("channels.x.channel", "XChannel")),
    labels={"id": "X (Twitter)", "en": "X (Twitter)"},
    webhooks=False,
    polls=True,
)
