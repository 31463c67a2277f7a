"""Telegram: the bot's webhook or long polling, its parser, replies and media."""

from __future__ import annotations

from channels.spec import ChannelContext, ChannelSpec
from channels.telegram.channel import TelegramChannel
from channels.telegram.config import TelegramConfig


def _build(context: ChannelContext) -> TelegramChannel:
    # python-telegram-bot brings its own HTTP client: no shared session.
    channel = TelegramChannel(context.config, context.data_dir, context.clock)
    channel.health = context.health
    return channel


SPEC = ChannelSpec(
    name="telegram",
    config=TelegramConfig,
    build=_build,
    labels={"id": "Telegram", "en": "Telegram"},
    webhooks=True,  # when a webhook URL is configured; long polling otherwise
    polls=True,
)
