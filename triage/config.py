"""The `[triage]`, `[[opd]]` and `[[category]]` tables of config.toml."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict

from channels.base import Duration


class TriageConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    clarification_timeout: Duration = timedelta(days=3)
    reminder_before: Duration | None = None
    sweep_interval: Duration = timedelta(minutes=5)
    reopen_window: Duration = timedelta(days=7)


class OpdConfig(BaseModel):
    """A department (or central-government liaison) that tickets are forwarded to."""

    model_config = ConfigDict(extra="forbid")

    code: str
    name: str


class CategoryConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str
    name: str
    opd: str | None = None
    keywords: list[str] = []
