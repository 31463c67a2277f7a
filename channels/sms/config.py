"""The `[channels.sms]` table: the SMS Gateway for Android server, its credentials and the key the
phone signs its webhooks with."""

from __future__ import annotations

from datetime import timedelta

from pydantic import SecretStr, model_validator

from channels.base import ChannelConfig, Duration

# The public cloud server; a private server has the same prefix, the phone's own local server none
# (e.g. "http://192.168.1.10:8080").
CLOUD_API_BASE = "https://api.sms-gate.app/3rdparty/v1"


class SmsConfig(ChannelConfig):
    api_base: str = CLOUD_API_BASE
    username: str = ""  # basic auth, as the app's Home tab shows it
    password: SecretStr = SecretStr("")
    signing_key: SecretStr = SecretStr("")  # the app's Settings > Webhooks > Signing Key
    # The phone to send from when the account has several (cloud and private servers); also the
    # account tickets are tied to. Empty: the server picks the phone, the account is `username`.
    device_id: str = ""
    max_body_bytes: int = 262_144
    # A delivery whose X-Timestamp is further than this from our clock is refused as a replay.
    max_clock_skew: Duration = timedelta(minutes=5)
    request_timeout: Duration = timedelta(seconds=30)

    @model_validator(mode="after")
    def _complete_when_enabled(self) -> SmsConfig:
        if self.enabled:
            values = {
                "api_base": self.api_base,
                "username": self.username,
                "password": self.password.get_secret_value(),
                "signing_key": self.signing_key.get_secret_value(),
            }
            missing = [name for name, value in values.items() if not value]
            if missing:
                raise ValueError(f"required when the channel is enabled: {', '.join(missing)}")
        return self

    @property
    def account(self) -> str:
        return self.device_id or self.username
