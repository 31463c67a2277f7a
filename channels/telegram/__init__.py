"""Telegram: the bot's webhook or long polling, its parser, replies and media."""

from __future__ import annotations

from channels.spec import ChannelSpec, built_from, imported
from channels.telegram.config import TelegramConfig

SPEC = ChannelSpec(
    name="telegram",
    config=TelegramConfig,
    build=built_from(
        imported("channels.telegram.channel", "TelegramChannel"),
        shared_http=False,  # python-telegram-bot has its own client
    ),
    labels={"id": "Telegram", "en": "Telegram"},
    webhooks=True,  # when a webhook URL is configured; long polling otherwise
    polls=True,
)
