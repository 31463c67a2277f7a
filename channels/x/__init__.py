"""X (Twitter): mentions and direct messages polled through the X API v2, replies sent back."""

from __future__ import annotations

from channels.spec import ChannelContext, ChannelSpec
from channels.x.channel import XChannel
from channels.x.config import XConfig


def _build(context: ChannelContext) -> XChannel:
    channel = XChannel(context.config, context.data_dir, context.http, context.clock)
    channel.health = context.health
    return channel


SPEC = ChannelSpec(
    name="x",
    config=XConfig,
    build=_build,
    labels={"id": "X (Twitter)", "en": "X (Twitter)"},
    webhooks=False,
    polls=True,
)
