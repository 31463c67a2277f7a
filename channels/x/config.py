"""The `[channels.x]` table: the account's keys, what to poll and how replies go out."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import Field, SecretStr, model_validator

from channels.base import ChannelConfig, Duration
from channels.media_hosts import X_MEDIA_HOSTS

Source = Literal["mentions", "dms"]


# tweepy 4.17 hard-codes this host in Client.request and has no base-URL option.
TWEEPY_HOST = "https://api.twitter.com"

class XConfig(ChannelConfig):
    bearer_token: SecretStr = SecretStr("")
    consumer_key: SecretStr = SecretStr("")
    consumer_secret: SecretStr = SecretStr("")
    access_token: SecretStr = SecretStr("")
    access_token_secret: SecretStr = SecretStr("")
    user_id: str = ""  # the account's own numeric id
    poll_interval: Duration = timedelta(minutes=1)
    sources: list[Source] = Field(default_factory=lambda: ["mentions", "dms"])
    # tweepy calls api.twitter.com; another value sends the same paths there (tests: a fake).
    api_base: str = TWEEPY_HOST
    page_size: int = Field(default=100, ge=5, le=100)
    # The first poll (no cursor yet) reads only this far back, so enabling the channel does not
    # turn months of old mentions and DMs into new tickets.
    lookback: Duration = timedelta(days=2)
    # When the operator picks no mode: "auto" answers a DM by DM and a tweet by a reply tweet.
    reply_mode: Literal["auto", "reply", "dm"] = "auto"
    request_timeout: Duration = timedelta(seconds=30)
    retry_max: Duration = timedelta(minutes=15)  # longest back-off after failed polls
    max_media_bytes: int = 15 * 1024 * 1024
    # Photos are downloaded only from these hosts (and api_base's own).
    media_hosts: list[str] = Field(default_factory=lambda: list(X_MEDIA_HOSTS))

    @model_validator(mode="after")
    def _complete_when_enabled(self) -> XConfig:
        if self.enabled:
            # Replies and DMs need the account's own (OAuth 1.0a user) keys.
            needed = ["consumer_key", "consumer_secret", "access_token", "access_token_secret"]
            missing = [n for n in needed if not getattr(self, n).get_secret_value()]
            if not self.user_id:
                missing.insert(0, "user_id")
            if missing:
                raise ValueError(f"required when the channel is enabled: {', '.join(missing)}")
        return self
