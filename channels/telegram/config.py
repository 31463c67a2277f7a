"""The `[channels.telegram]` table: the bot's token, polling or webhook, and limits."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import Field, SecretStr, model_validator

from channels.base import ChannelConfig, Duration

BOT_API_BASE = "https://api.telegram.org"
_SECRET_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


class TelegramConfig(ChannelConfig):
    bot_token: SecretStr = SecretStr("")
    mode: Literal["polling", "webhook"] = "polling"
    secret_token: SecretStr = SecretStr("")  # webhook mode: Telegram sends it in SECRET_HEADER
    webhook_url: str = ""  # webhook mode: when set, registered with setWebhook at start
    poll_interval: Duration = timedelta(seconds=1)  # pause between two getUpdates calls
    long_poll: Duration = timedelta(seconds=25)  # how long getUpdates waits for news
    api_base: str = BOT_API_BASE
    request_timeout: Duration = timedelta(seconds=30)
    retry_max: Duration = timedelta(minutes=5)
    max_media_bytes: int = Field(default=20 * 1024 * 1024, gt=0)  # the cloud Bot API's limit
    max_body_bytes: int = 1_048_576

    @model_validator(mode="after")
    def _complete_when_enabled(self) -> TelegramConfig:
        if not self.enabled:
            return self
        token = self.bot_token.get_secret_value()
        if ":" not in token:
            raise ValueError("bot_token: required when enabled, as BotFather gave it")
        secret = self.secret_token.get_secret_value()
        if self.mode == "webhook" and not (0 < len(secret) <= 256 and set(secret) <= _SECRET_CHARS):
            raise ValueError("secret_token: webhook mode needs 1-256 characters of A-Z a-z 0-9 _ -")
        return self
