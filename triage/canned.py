"""Canned replies: texts an operator picks instead of typing, in the reporters' language, with
placeholders filled from the ticket ({name}, {number}, {deadline}, {opd}). They come from
`[[canned_reply]]` in config.toml and from the admins' page (inbox/canned_pages.py)."""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, field_validator

# The forms a canned reply may be offered in.
FORMS = ("reply", "request_clarification", "reject", "resolve")
PLACEHOLDERS = frozenset({"name", "number", "deadline", "opd"})


class CannedReply(BaseModel):
    """One `[[canned_reply]]`: a title operators read and its text per language."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str = Field(min_length=1, max_length=120)
    text: dict[str, str] = Field(description='per language: {id = "...", en = "..."}')
    forms: tuple[str, ...] = FORMS

    @field_validator("text")
    @classmethod
    def _known_placeholders(cls, text: dict[str, str]) -> dict[str, str]:
        if not text:
            raise ValueError("give the text in at least one language")
        for language, body in text.items():
            unknown = placeholders(body) - PLACEHOLDERS
            if unknown:
                raise ValueError(
                    f"text.{language}: unknown placeholder {{{sorted(unknown)[0]}}}; "
                    f"use {', '.join('{' + p + '}' for p in sorted(PLACEHOLDERS))}"
                )
        return text

    @field_validator("forms")
    @classmethod
    def _known_forms(cls, forms: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(forms) - set(FORMS))
        if unknown:
            raise ValueError(f"unknown form {unknown[0]!r}; use {', '.join(FORMS)}")
        return forms


@dataclass(frozen=True, slots=True)
class Offered:
    title: str
    text: str


def placeholders(text: str) -> frozenset[str]:
    return frozenset(name for _, name, _, _ in string.Formatter().parse(text) if name)


def fill(text: str, values: Mapping[str, str]) -> str:
    """`text` with what the ticket knows; a placeholder it does not know stays visible."""
    return text.format_map(_Keep(values))


def offered(
    replies: Iterable[CannedReply], form: str, locale: str, values: Mapping[str, str]
) -> list[Offered]:
    """The canned replies for `form`, in `locale` (else their first language), filled in."""
    chosen = []
    for reply in replies:
        if form not in reply.forms:
            continue
        text = reply.text.get(locale) or next(iter(reply.text.values()))
        chosen.append(Offered(reply.title, fill(text, values)))
    return chosen


class _Keep(dict):
    def __init__(self, values: Mapping[str, str]) -> None:
        super().__init__(values)

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"
