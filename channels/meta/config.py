"""The config keys shared by `[channels.instagram]` and `[channels.facebook]`."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import Field, SecretStr, model_validator

from channels.base import ChannelConfig, Duration
from channels.media_hosts import META_MEDIA_HOSTS
from channels.meta.graph import GRAPH_API_BASE

Source = Literal["messages", "comments", "mentions"]


class MetaConfig(ChannelConfig):
    """Keys shared by `[channels.instagram]` and `[channels.facebook]`."""

    page_id: str = ""
    access_token: SecretStr = SecretStr("")  # the Page access token
    api_base: str = GRAPH_API_BASE  # includes the Graph version
    poll_interval: Duration = timedelta(seconds=60)
    lookback: Duration = timedelta(days=2)  # how far back the first run reads
    sources: tuple[Source, ...] = ("messages", "comments", "mentions")
    recent_posts: int = 10  # the account's newest posts whose comments are read
    recheck: Duration = timedelta(hours=24)  # comments re-read for edits, deletions, late ones
    comment_reply: Literal["public", "private"] = "private"  # when the operator picks no mode
    human_agent_tag: bool = False  # DMs up to 7 days after the reporter wrote (needs App Review)
    request_timeout: Duration = timedelta(seconds=30)
    slow_at: float = 75.0  # percent of Graph's limits at which polling slows down
    request_pause: Duration = timedelta(seconds=1)  # between calls past slow_at (up to 5x)
    batch_size: int = 100  # items committed per intake call
    max_pages: int = 20  # per listing and poll
    retry_initial: Duration = timedelta(seconds=5)
    retry_max: Duration = timedelta(minutes=10)
    max_media_bytes: int = 25 * 1024 * 1024
    # Attachments are downloaded only from these hosts (and api_base's own).
    media_hosts: list[str] = Field(default_factory=lambda: list(META_MEDIA_HOSTS))
    # Optional, on top of polling: Meta's webhook at /webhooks/<channel>, signed with the app
    # secret (X-Hub-Signature-256). Served only when both are set.
    app_secret: SecretStr = SecretStr("")
    verify_token: SecretStr = SecretStr("")
    max_body_bytes: int = 1_048_576

    @model_validator(mode="after")
    def _complete_when_enabled(self) -> MetaConfig:
        if self.enabled:
            missing = [name for name in self._required() if not _plain(getattr(self, name))]
            if missing:
                raise ValueError(f"required when the channel is enabled: {', '.join(missing)}")
        return self

    def _required(self) -> tuple[str, ...]:
        return ("page_id", "access_token")


def _plain(value: SecretStr | str) -> str:
    return value.get_secret_value() if isinstance(value, SecretStr) else value
