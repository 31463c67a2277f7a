"""The `[metrics]` and `[logging]` tables of config.toml."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, SecretStr, field_validator, model_validator

from networks import AddressList

# A shorter token can be guessed; `openssl rand -hex 32` gives 64 characters.
MIN_TOKEN_LENGTH = 16


class MetricsConfig(BaseModel):
    """`GET /metrics` for Prometheus. Off unless enabled, and never open to everyone: enabled
    needs a bearer token, an address allow-list, or both (then a scrape must pass both)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    token: SecretStr = SecretStr("")  # the scraper sends `Authorization: Bearer TOKEN`
    allow: AddressList = []  # addresses or CIDRs the scraper connects from

    @field_validator("token")
    @classmethod
    def _long_enough(cls, token: SecretStr) -> SecretStr:
        if 0 < len(token.get_secret_value()) < MIN_TOKEN_LENGTH:
            raise ValueError(f"must be at least {MIN_TOKEN_LENGTH} characters")
        return token

    @model_validator(mode="after")
    def _protected(self) -> MetricsConfig:
        if self.enabled and not self.token.get_secret_value() and not self.allow:
            raise ValueError(
                "enabled needs a token or an allow list: /metrics is never open to everyone"
            )
        return self


class LoggingConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # "text": one readable line per event; "json": one JSON object per line, for a collector.
    format: Literal["text", "json"] = "text"
