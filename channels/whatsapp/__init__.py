"""WhatsApp Cloud API: the signed webhook, its parser, replies and media."""

from __future__ import annotations

from datetime import timedelta

from channels.spec import ChannelContext, ChannelSpec
from channels.whatsapp.channel import WhatsAppChannel
from channels.whatsapp.config import WhatsAppConfig


def _build(context: ChannelContext) -> WhatsAppChannel:
    return WhatsAppChannel(context.config, context.data_dir, context.http, context.clock)


SPEC = ChannelSpec(
    name="whatsapp",
    config=WhatsAppConfig,
    build=_build,
    labels={"id": "WhatsApp", "en": "WhatsApp"},
    webhooks=True,
    polls=False,
    reply_window=timedelta(hours=24),
)
