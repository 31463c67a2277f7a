"""The API's query parameters as pydantic models: parsed here, listed in the OpenAPI document."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from store.queue import STATUSES
from store.text import is_storable
from store.tickets import MAX_PAGE


class BadQuery(ValueError):
    """A query the API answers with 400 and this message."""


class _Query(BaseModel):
    # Parameters nobody reads are ignored, as a browser or proxy may add its own.
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    @classmethod
    def parse(cls, query: Mapping[str, str]) -> Self:
        """The parameters (the first of a repeated one), or BadQuery with the first problem."""
        try:
            return cls.model_validate({key: query[key] for key in query})
        except ValidationError as exc:
            error = exc.errors()[0]
            cause = (error.get("ctx") or {}).get("error")
            raise BadQuery(str(cause) if cause else error["msg"]) from None


class TicketQuery(_Query):
    """GET /api/tickets. Fields in the order they are checked: the first problem is answered."""

    limit: int = Field(50, ge=1, le=MAX_PAGE, description="page size")
    status: str | None = Field(
        None, json_schema_extra={"enum": list(STATUSES)}, description="the tickets' state"
    )
    channel: str | None = Field(None, description="the name of the channel the report came on")
    q: str | None = Field(None, description="words in messages, reporters; ticket or phone number")
    cursor: str | None = Field(None, description="next_cursor from the previous page")

    @field_validator("limit", mode="before")
    @classmethod
    def _whole_number_in_range(cls, value: Any) -> Any:
        text = str(value)
        if not text.isascii() or not text.isdigit():
            raise ValueError("limit must be a whole number")
        if not 1 <= int(text) <= MAX_PAGE:
            raise ValueError(f"limit must be between 1 and {MAX_PAGE}")
        return int(text)

    @field_validator("status", mode="before")
    @classmethod
    def _known_status(cls, value: Any) -> Any:
        if value and value not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}")
        return value or None

    @field_validator("channel", "q", "cursor", mode="before")
    @classmethod
    def _storable(cls, value: Any, info: ValidationInfo) -> Any:
        if not is_storable(value or ""):
            problem = "holds a NUL character, which no ticket can contain"
            raise ValueError(f"{info.field_name} {problem}")
        return value or None


class ActionQuery(_Query):
    """POST /api/tickets/{number}/actions."""

    confirm: Literal["held"] | None = Field(
        None, description="act even though another operator holds the ticket"
    )


class PeriodQuery(_Query):
    """GET /api/stats; store.stats.query_range reads the values (it needs the region's day)."""

    from_: str | None = Field(
        None,
        alias="from",
        description="first day (YYYY-MM-DD, local) or instant; default: the 1st of this month",
    )
    to: str | None = Field(
        None, description="last day, included (YYYY-MM-DD) or instant; default: today"
    )
