"""WhatsApp Cloud API: webhook in, replies out."""

from __future__ import annotations

from pydantic import SecretStr

from channels.base import ChannelConfig

GRAPH_API_BASE = "https://graph.facebook.com/v23.0"


class WhatsAppConfig(ChannelConfig):
    verify_token: SecretStr = SecretStr("")
    app_secret: SecretStr = SecretStr("")
    access_token: SecretStr = SecretStr("")
    phone_number_id: str = ""
    api_base: str = GRAPH_API_BASE
    max_body_bytes: int = 1_048_576
    template_name: str = ""  # approved template used outside the 24-hour window
    template_language: str = "id"
