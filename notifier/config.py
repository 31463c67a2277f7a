"""The `[notifier]` table of config.toml: digest time, quiet period, SMTP, Telegram, recipients."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from durations import Duration

Locale = Literal["id", "en"]
Delivery = Literal["email", "telegram"]
Topic = Literal["digest", "escalation", "health"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SmtpConfig(_Strict):
    """The mail server staff mail goes out through (may be the email channel's)."""

    host: str = ""
    port: int = Field(default=587, ge=1, le=65535)
    tls: Literal["ssl", "starttls", "none"] = "starttls"
    username: str = ""
    password: SecretStr = SecretStr("")
    from_address: str = ""
    from_name: str = "Kanal"
    timeout: Duration = timedelta(seconds=60)


class TelegramConfig(_Strict):
    bot_token: SecretStr = SecretStr("")
    # The Bot API's address; change it only for a local Bot API server (or a test's fake).
    api_base: str = "https://api.telegram.org/bot"
    file_base: str = "https://api.telegram.org/file/bot"
    timeout: Duration = timedelta(seconds=30)


class RecipientConfig(_Strict):
    """A supervisor or admin: where they read (email, Telegram) and what they want."""

    name: str = Field(min_length=1, max_length=120)
    email: str | None = None
    telegram_chat_id: str | None = None
    # Default: every address given.
    channels: list[Delivery] = []
    # digest = the daily digest, escalation = overdue OPD alerts, health = channel alerts.
    receives: list[Topic] = ["digest", "escalation"]
    locale: Locale | None = None  # default: [notifier] locale

    @field_validator("telegram_chat_id", mode="before")
    @classmethod
    def _chat_id_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int) else value

    @model_validator(mode="after")
    def _addresses_for_channels(self) -> RecipientConfig:
        if not self.channels:
            self.channels = [c for c in ("email", "telegram") if self.address(c)]  # type: ignore[misc]
        for channel in self.channels:
            if not self.address(channel):
                key = "email" if channel == "email" else "telegram_chat_id"
                raise ValueError(f"channels lists {channel} but {key} is not set")
        return self

    def address(self, channel: str) -> str | None:
        return self.email if channel == "email" else self.telegram_chat_id


class NotifierConfig(_Strict):
    enabled: bool = False
    locale: Locale = "id"
    digest_time: time = time(7, 0)  # local time of [region] timezone
    # After an escalation alert about an OPD, further ones for it wait this long, batched.
    quiet_period: Duration = timedelta(hours=4)
    sweep_interval: Duration = timedelta(minutes=1)
    max_attempts: int = Field(default=6, ge=1)
    smtp: SmtpConfig = SmtpConfig()
    telegram: TelegramConfig = TelegramConfig()
    recipient: list[RecipientConfig] = []

    @model_validator(mode="after")
    def _senders_configured(self) -> NotifierConfig:
        if not self.enabled:
            return self
        wanted = {c for r in self.recipient for c in r.channels}
        if "email" in wanted and not (self.smtp.host and self.smtp.from_address):
            raise ValueError("smtp.host and smtp.from_address are needed to mail recipients")
        if "telegram" in wanted and not self.telegram.bot_token.get_secret_value():
            raise ValueError("telegram.bot_token is needed to reach recipients on Telegram")
        return self

    def recipients_for(self, topic: str) -> list[RecipientConfig]:
        return [r for r in self.recipient if topic in r.receives]
