"""What an operator may ask of a ticket: one model per action, told apart by `action`.

This is the only definition of an action's fields: the API validates its JSON body with it, the
ticket page its form, `TicketActions` takes it, and the OpenAPI document is generated from it.
Whether a field an action needs is present (verify's category, note's text, ...) is checked by
`TicketActions` after the state machine, as before: a missing field answers 422, an action the
state does not allow 409, whichever the body also lacks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from triage.states import Action, Resolution

Fact = Literal["location", "photo", "supporting_data", "event_time"]
CLARIFIABLE_FACTS: tuple[str, ...] = get_args(Fact)
# How a message goes out where a channel offers a choice (see OutboundMessage.options).
Mode = Literal["reply", "dm", "public", "private"]

_CATEGORY = Field(None, description="the category code")
_MESSAGE = Field(None, description="text to the reporter (the template's text when absent)")
_MODE = Field(
    None,
    description="how the message goes out where the channel offers a choice "
    "(X: reply tweet or DM; Facebook/Instagram comments: public or private reply)",
)


def _action_required(schema: dict[str, Any]) -> None:
    # `action` has a default so that Python callers may write Reply(message=...), but a body
    # must name it: the union is told apart by it.
    schema["required"] = ["action", *schema.get("required", [])]


class _Request(BaseModel):
    # An unknown or misplaced field is a mistake worth a 422, never silently ignored.
    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra=_action_required)


class Verify(_Request):
    action: Literal[Action.VERIFY] = Action.VERIFY
    category: str | None = Field(None, description="the category code (required)")
    opd: str | None = Field(None, description="the OPD code (default: the category's)")
    forward: bool = Field(
        False,
        description="forward to that OPD in the same step (one transaction, two audit events)",
    )
    mode: Mode | None = _MODE


class RequestClarification(_Request):
    action: Literal[Action.REQUEST_CLARIFICATION] = Action.REQUEST_CLARIFICATION
    facts: tuple[Fact, ...] = Field((), description="what to ask for (default: what is missing)")
    message: str | None = _MESSAGE
    mode: Mode | None = _MODE


class Reject(_Request):
    action: Literal[Action.REJECT] = Action.REJECT
    # Any resolution is taken here: the state machine answers 409 for one that is no reason.
    resolution: Resolution | None = Field(None, description="the reason (required)")
    message: str | None = _MESSAGE
    mode: Mode | None = _MODE


class Forward(_Request):
    action: Literal[Action.FORWARD] = Action.FORWARD
    opd: str | None = Field(None, description="the OPD code (default: the one verify proposed)")
    mode: Mode | None = _MODE


class Acknowledge(_Request):
    action: Literal[Action.ACKNOWLEDGE] = Action.ACKNOWLEDGE


class Resolve(_Request):
    action: Literal[Action.RESOLVE] = Action.RESOLVE
    message: str | None = Field(
        None,
        description="the answer sent to the reporter (required unless the OPD answered: then "
        "the OPD's answer not yet sent, or else the built-in resolved message)",
    )
    mode: Mode | None = _MODE


class Reopen(_Request):
    action: Literal[Action.REOPEN] = Action.REOPEN


class Merge(_Request):
    action: Literal[Action.MERGE] = Action.MERGE
    into: str | None = Field(None, description="the number of the ticket to follow (required)")
    mode: Mode | None = _MODE


class Reply(_Request):
    action: Literal[Action.REPLY] = Action.REPLY
    message: str | None = Field(None, description="the text to the reporter (required)")
    mode: Mode | None = _MODE


class Answer(_Request):
    action: Literal[Action.ANSWER] = Action.ANSWER
    message: str | None = Field(
        None,
        description="the OPD's answer to the reporter (required); sent at once or with the "
        "resolve, as [triage] opd_answers says",
    )
    mode: Mode | None = _MODE


class Note(_Request):
    action: Literal[Action.NOTE] = Action.NOTE
    text: str | None = Field(None, description="the internal note (required)")


class Assign(_Request):
    action: Literal[Action.ASSIGN] = Action.ASSIGN
    assignee: str | None = Field(
        None, description="the staff username to hold the ticket (default: the one acting)"
    )


class Release(_Request):
    action: Literal[Action.RELEASE] = Action.RELEASE


class MarkRead(_Request):
    action: Literal[Action.MARK_READ] = Action.MARK_READ


class MarkSpam(_Request):
    """The reporter is a spammer: an open ticket closes as spam, silently; what they write
    later is kept on a ticket closed as spam and never answered automatically."""

    action: Literal[Action.MARK_SPAM] = Action.MARK_SPAM


class UnmarkSpam(_Request):
    """The reporter is not a spammer after all: their next message is a report like any."""

    action: Literal[Action.UNMARK_SPAM] = Action.UNMARK_SPAM


ActionRequest = Annotated[
    Verify
    | RequestClarification
    | Reject
    | Forward
    | Acknowledge
    | Resolve
    | Reopen
    | Merge
    | Reply
    | Note
    | Answer
    | Assign
    | Release
    | MarkRead
    | MarkSpam
    | UnmarkSpam,
    Field(discriminator="action"),
]
ACTION_REQUEST: TypeAdapter[ActionRequest] = TypeAdapter(ActionRequest)


def parse_action(values: Mapping[str, Any]) -> ActionRequest:
    """One action from plain values (a JSON body, a form); pydantic's ValidationError if not."""
    return ACTION_REQUEST.validate_python(values)


def given(request: ActionRequest, name: str) -> Any:
    """A field that only some actions have (mode, message, ...), None where this one has not."""
    return getattr(request, name, None)
