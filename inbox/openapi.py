"""The OpenAPI 3 description of the JSON API; a test keeps it true to the routes and answers."""

from __future__ import annotations

from typing import Any

from triage.states import OPERATOR_ACTIONS, Resolution, Status

_STR = {"type": "string"}
_NSTR = {"type": "string", "nullable": True}
_WHEN = {"type": "string", "format": "date-time", "nullable": True}


def _obj(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": required if required is not None else list(properties),
    }


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref("Error")}}}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


TICKET = _obj(
    {
        "number": {**_STR, "example": "LBP-2026-00042"},
        "status": {"type": "string", "enum": [s.value for s in Status]},
        "resolution": {"type": "string", "enum": [r.value for r in Resolution], "nullable": True},
        "channel": _STR,
        "reporter": _obj({"name": _NSTR, "contact": _NSTR, "channel_id": _STR}),
        "summary": _STR,
        "category": _NSTR,
        "opd": _NSTR,
        "verified": {"type": "boolean"},
        "answered": {"type": "boolean"},
        "merged_into": _NSTR,
        "flags": {"type": "object"},
        "created_at": _WHEN,
        "last_activity_at": _WHEN,
        "verify_due_at": _WHEN,
        "clarification_due_at": _WHEN,
        "opd_due_at": _WHEN,
        "due_at": _WHEN,
        "message_count": {"type": "integer"},
    }
)
ATTACHMENT = _obj(
    {
        "id": {"type": "integer"},
        "kind": _STR,
        "mime_type": _NSTR,
        "file_name": _NSTR,
        "size": {"type": "integer", "nullable": True},
        "caption": _NSTR,
        "state": {"type": "string", "enum": ["pending", "stored", "failed"]},
        "error": _NSTR,
    }
)
MESSAGE = _obj(
    {
        "id": {"type": "integer"},
        "direction": {"type": "string", "enum": ["in", "out"]},
        "channel": _STR,
        "external_id": _STR,
        "author": _NSTR,
        "text": _STR,
        "subject": _NSTR,
        "attachments": {"type": "array", "items": _ref("Attachment")},
        "location": {
            **_obj(
                {
                    "latitude": {"type": "number"},
                    "longitude": {"type": "number"},
                    "name": _NSTR,
                    "address": _NSTR,
                }
            ),
            "nullable": True,
        },
        "time": _WHEN,
        "received_at": _WHEN,
        "delivery_state": _NSTR,
        "error_code": _NSTR,
        "error_message": _NSTR,
        "parse_error": _NSTR,
        "edited_text": _NSTR,
        "deleted": {"type": "boolean"},
        "reaction": _NSTR,
        "forwarded": {"type": "boolean"},
    }
)
EVENT = _obj(
    {
        "at": _WHEN,
        "actor": _STR,
        "action": _STR,
        "from_state": _NSTR,
        "to_state": _NSTR,
        "note": _NSTR,
        "data": {"type": "object"},
    }
)
TICKET_DETAIL = {
    "allOf": [
        _ref("Ticket"),
        _obj(
            {
                "messages": {"type": "array", "items": _ref("Message")},
                "events": {"type": "array", "items": _ref("Event")},
            }
        ),
    ]
}
ACTION = _obj(
    {
        "action": {"type": "string", "enum": sorted(a.value for a in OPERATOR_ACTIONS)},
        "category": {**_STR, "description": "verify: the category code"},
        "opd": {**_STR, "description": "verify, forward: the OPD code"},
        "message": {**_STR, "description": "text to the reporter (template when absent)"},
        "resolution": {"type": "string", "enum": [r.value for r in Resolution]},
        "into": {**_STR, "description": "merge: the number of the ticket to follow"},
        "text": {**_STR, "description": "note: the internal note"},
        "mode": {
            "type": "string",
            "enum": ["reply", "dm", "public", "private"],
            "description": "how the message goes out where the channel offers a choice "
            "(X: reply tweet or DM; Facebook/Instagram comments: public or private reply)",
        },
        "facts": {
            "type": "array",
            "items": {
                "type": "string",
                "enum": ["location", "photo", "supporting_data", "event_time"],
            },
            "description": "request_clarification: what to ask for (default: what is missing)",
        },
    },
    required=["action"],
)
CODE_NAME = _obj({"code": _STR, "name": _STR}, required=["code", "name"])
_AUTH = [{"bearer": []}]
_HEALTH = {
    "status": {"type": "string", "enum": ["ok", "unavailable"]},
    "database": {"type": "string", "enum": ["ok", "unreachable"]},
    "leading": {
        "type": "array",
        "items": _STR,
        "description": "singletons this process runs now (scheduler, pollers)",
    },
}
_NUMBER = {"name": "number", "in": "path", "required": True, "schema": _STR}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


_COUNTS = {"type": "object", "additionalProperties": {"type": "integer"}}
_HOURS = {"type": "number", "nullable": True}


def _reasons(reasons: list[str]) -> dict[str, Any]:
    return _obj(
        {"total": {"type": "integer"}, "by_reason": _obj({r: {"type": "integer"} for r in reasons})}
    )


PERIOD = _obj(
    {
        "received": _obj({"total": {"type": "integer"}, "by_channel": _COUNTS}),
        "valid": {"type": "integer"},
        "not_valid": _reasons(["not_factual", "no_response", "spam"]),
        "rejected": _reasons(["out_of_jurisdiction", "not_government_affairs", "private_matter"]),
        "by_status": _obj({s.value: {"type": "integer"} for s in Status}),
        "by_category": _COUNTS,
        "by_opd": _COUNTS,
        "overdue_by_opd": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": _STR},
        },
        "median_first_response_hours": _HOURS,
        "median_resolution_hours": _HOURS,
    }
)


PATHS: dict[str, Any] = {
    "/healthz": {
        "get": {
            "summary": "Whether the service and its database answer",
            "responses": {
                "200": _json(_obj(_HEALTH)),
                "503": _json(_obj(_HEALTH), "Database unreachable"),
            },
        }
    },
    "/api/openapi.json": {
        "get": {"summary": "This document", "responses": {"200": _json({"type": "object"})}}
    },
    "/api/tickets": {
        "get": {
            "summary": "Tickets, newest activity first, one page at a time",
            "security": _AUTH,
            "parameters": [
                _query("status", {"type": "string", "enum": [s.value for s in Status]}, "state"),
                _query("channel", _STR, "whatsapp, email, instagram, facebook, x, telegram"),
                _query("q", _STR, "text search in number, summary, reporter and messages"),
                _query("limit", {"type": "integer", "minimum": 1, "maximum": 200}, "page size"),
                _query("cursor", _STR, "next_cursor from the previous page"),
            ],
            "responses": {
                "200": _json(
                    _obj(
                        {
                            "items": {"type": "array", "items": _ref("Ticket")},
                            "next_cursor": _NSTR,
                        }
                    )
                ),
                "400": _error("Bad filter, limit or cursor"),
                "401": _error("No or bad token"),
            },
        }
    },
    "/api/tickets/{number}": {
        "get": {
            "summary": "One ticket with its conversation and audit trail",
            "security": _AUTH,
            "parameters": [_NUMBER],
            "responses": {
                "200": _json(_ref("TicketDetail")),
                "401": _error("No or bad token"),
                "404": _error("No such ticket"),
            },
        }
    },
    "/api/tickets/{number}/actions": {
        "post": {
            "summary": "Apply an action of the ticket state machine",
            "security": _AUTH,
            "parameters": [_NUMBER],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref("Action")}},
            },
            "responses": {
                "200": _json(_ref("TicketDetail"), "The ticket after the action"),
                "401": _error("No or bad token"),
                "403": _error("The user's role may not do this"),
                "404": _error("No such ticket"),
                "409": _error("The action is not allowed in the ticket's state"),
                "422": _error("Malformed or incomplete body"),
                "503": _error("Database unreachable"),
            },
        }
    },
    "/api/categories": {
        "get": {
            "summary": "Configured report categories",
            "security": _AUTH,
            "responses": {"200": _json({"type": "array", "items": _ref("Category")})},
        }
    },
    "/api/opds": {
        "get": {
            "summary": "Configured departments (OPD) and liaisons",
            "security": _AUTH,
            "responses": {"200": _json({"type": "array", "items": _ref("CodeName")})},
        }
    },
    "/api/stats": {
        "get": {
            "summary": "Figures of the reports received in a period (as in the daily digest)",
            "security": _AUTH,
            "parameters": [
                _query("from", _STR, "first day (YYYY-MM-DD, local) or instant; default: 1st"),
                _query("to", _STR, "last day, included (YYYY-MM-DD) or instant; default: today"),
            ],
            "responses": {
                "200": _json(_ref("Period")),
                "400": _error("Bad or out-of-range date"),
                "401": _error("No or bad token"),
                "403": _error("Not a supervisor or admin"),
            },
        }
    },
}


def openapi_document() -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {"title": "Kanal API", "version": "1"},
        "paths": PATHS,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Ticket": TICKET,
                "TicketDetail": TICKET_DETAIL,
                "Message": MESSAGE,
                "Attachment": ATTACHMENT,
                "Event": EVENT,
                "Action": ACTION,
                "CodeName": CODE_NAME,
                "Category": _obj({"code": _STR, "name": _STR, "opd": _NSTR}),
                "Error": _obj({"error": _STR}, required=["error"]),
                "Period": PERIOD,
            },
        },
    }
