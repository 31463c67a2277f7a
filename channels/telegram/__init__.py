"""Telegram: the bot's webhook or long polling, its parser, replies and media."""

from __future__ import annotations

from channels.spec import ChannelSpec, built_from
from channels.telegram.channel import TelegramChannel
from channels.telegram.config import TelegramConfig

SPEC = ChannelSpec(
    name="telegram",
    config=TelegramConfig,
    build=built_from(TelegramChannel, shared_http=False),  # python-telegram-bot has its own client
    labels={"id": "Telegram", "en": "Telegram"},
    webhooks=True,  # when a webhook URL is configured; long polling otherwise
    polls=True,
)
