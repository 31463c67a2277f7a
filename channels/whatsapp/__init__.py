"""WhatsApp Cloud API: the signed webhook, its parser, replies and media."""

from __future__ import annotations

from channels.spec import META_REPLY_WINDOW, ChannelSpec, built_from
from channels.whatsapp.channel import WhatsAppChannel
from channels.whatsapp.config import WhatsAppConfig

SPEC = ChannelSpec(
    name="whatsapp",
    config=WhatsAppConfig,
    build=built_from(WhatsAppChannel, polls=False),
    labels={"id": "WhatsApp", "en": "WhatsApp"},
    webhooks=True,
    polls=False,
    reply_window=META_REPLY_WINDOW,
)
