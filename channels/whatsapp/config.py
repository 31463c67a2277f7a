"""The `[channels.whatsapp]` table: the Cloud API number, its secrets and media limits."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, SecretStr, model_validator

from channels.base import ChannelConfig, Duration
from channels.media_hosts import WHATSAPP_MEDIA_HOSTS

GRAPH_API_BASE = "https://graph.facebook.com/v23.0"


class WhatsAppConfig(ChannelConfig):
    verify_token: SecretStr = SecretStr("")
    app_secret: SecretStr = SecretStr("")
    access_token: SecretStr = SecretStr("")
    phone_number_id: str = ""
    # Includes the Graph version, e.g. "https://graph.facebook.com/v23.0".
    api_base: str = GRAPH_API_BASE
    max_body_bytes: int = 1_048_576
    template_name: str = ""  # approved template used outside the 24-hour window
    template_language: str = "id"
    request_timeout: Duration = timedelta(seconds=30)
    media_attempts: int = 3  # Graph blocks media lookups for an hour after 5 failures
    media_retry_delay: Duration = timedelta(seconds=5)
    max_media_bytes: int = 100 * 1024 * 1024  # the Cloud API's own limit
    media_concurrency: int = 4
    # Hosts media lookups may send us to with the token (besides api_base's own host).
    media_hosts: list[str] = Field(default_factory=lambda: list(WHATSAPP_MEDIA_HOSTS))

    def sends_after_window(self) -> bool:
        return bool(self.template_name)

    @model_validator(mode="after")
    def _complete_when_enabled(self) -> WhatsAppConfig:
        if self.enabled:
            missing = [
                name
                for name in ("verify_token", "app_secret", "access_token", "phone_number_id")
                if not _plain(getattr(self, name))
            ]
            if missing:
                raise ValueError(f"required when the channel is enabled: {', '.join(missing)}")
        return self


def _plain(value: SecretStr | str) -> str:
    return value.get_secret_value() if isinstance(value, SecretStr) else value
