"""The OpenAPI 3.1 document of the JSON API, generated from the models its handlers use."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, TypeAdapter

from inbox import schemas
from inbox.queries import ActionQuery, PeriodQuery, TicketQuery
from triage.action_requests import ActionRequest

REF = "#/components/schemas/{model}"
_NO_TOKEN = (401, schemas.Error, "No or bad token")


@dataclass(frozen=True)
class Operation:
    """One route: what it takes and every answer it gives, by HTTP status."""

    method: str
    path: str
    summary: str
    answers: tuple[tuple[int, Any, str], ...]  # (status, type of the JSON, description)
    query: type[BaseModel] | None = None
    body: tuple[str, Any] | None = None  # (component name, type)
    secured: bool = True
    # The body may also come as multipart/form-data: the JSON in a `body` part, files in
    # `files` parts (the OPD's answer with its attachments).
    files: bool = False


OPERATIONS = (
    Operation(
        "get",
        "/healthz",
        "Whether the service and its database answer",
        ((200, schemas.Health, "OK"), (503, schemas.Health, "Database unreachable")),
        secured=False,
    ),
    Operation(
        "get",
        "/api/openapi.json",
        "This document",
        ((200, dict[str, Any], "OK"),),
        secured=False,
    ),
    Operation(
        "get",
        "/api/tickets",
        "Tickets, newest activity first, one page at a time",
        (
            (200, schemas.TicketPage, "OK"),
            (400, schemas.Error, "Bad filter, limit or cursor"),
            _NO_TOKEN,
        ),
        query=TicketQuery,
    ),
    Operation(
        "get",
        "/api/tickets/{number}",
        "One ticket with its conversation and audit trail",
        ((200, schemas.TicketDetail, "OK"), _NO_TOKEN, (404, schemas.Error, "No such ticket")),
    ),
    Operation(
        "post",
        "/api/tickets/{number}/actions",
        "Apply an action of the ticket state machine",
        (
            (200, schemas.TicketDetail, "The ticket after the action"),
            _NO_TOKEN,
            (403, schemas.Error, "The user's role may not do this"),
            (404, schemas.Error, "No such ticket"),
            (
                409,
                schemas.Refused | schemas.Held,
                "The action is not allowed in the ticket's state, or another operator holds "
                "the ticket (repeat with ?confirm=held to act anyway)",
            ),
            (
                400,
                schemas.Error,
                "A file is refused (too big, of a type not taken, too many); nothing is stored",
            ),
            (422, schemas.InvalidBody | schemas.Error, "Malformed or incomplete body"),
            (503, schemas.Error, "Database unreachable"),
        ),
        query=ActionQuery,
        body=("ActionRequest", ActionRequest),
        files=True,
    ),
    Operation(
        "get",
        "/api/categories",
        "Configured report categories",
        ((200, list[schemas.Category], "OK"), _NO_TOKEN),
    ),
    Operation(
        "get",
        "/api/opds",
        "Configured departments (OPD)",
        ((200, list[schemas.CodeName], "OK"), _NO_TOKEN),
    ),
    Operation(
        "get",
        "/api/stats",
        "Figures of the reports received in a period (as in the daily digest)",
        (
            (200, schemas.Period, "OK"),
            (400, schemas.Error, "Bad or out-of-range date"),
            _NO_TOKEN,
            (403, schemas.Error, "Not a supervisor or admin"),
        ),
        query=PeriodQuery,
    ),
)


@functools.cache
def openapi_document() -> dict[str, Any]:
    """The document; built once, as it depends on nothing but the code."""
    inputs: list[tuple[tuple[str, ...], Any, TypeAdapter[Any]]] = []
    for op in OPERATIONS:
        for status, kind, _ in op.answers:
            inputs.append(((op.method, op.path, str(status)), "serialization", TypeAdapter(kind)))
        if op.body:
            inputs.append(((op.method, op.path, "body"), "validation", TypeAdapter(op.body[1])))
    generated, definitions = TypeAdapter.json_schemas(inputs, ref_template=REF)
    components = dict(definitions.get("$defs", {}))
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method] = _operation(op, generated, components)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Kanal API", "version": "1"},
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": dict(sorted(components.items())),
        },
    }


def _operation(
    op: Operation, generated: dict[Any, Any], components: dict[str, Any]
) -> dict[str, Any]:
    spec: dict[str, Any] = {"summary": op.summary}
    if op.secured:
        spec["security"] = [{"bearer": []}]
    parameters = [_path_parameter(name) for name in re.findall(r"{(\w+)}", op.path)]
    parameters += _query_parameters(op.query) if op.query else []
    if parameters:
        spec["parameters"] = parameters
    if op.body:
        name = op.body[0]
        components[name] = generated[((op.method, op.path, "body"), "validation")]
        content = _json({"$ref": REF.format(model=name)})
        if op.files:
            content["multipart/form-data"] = _with_files(REF.format(model=name))
        spec["requestBody"] = {"required": True, "content": content}
    spec["responses"] = {
        str(status): {
            "description": description,
            "content": _json(generated[((op.method, op.path, str(status)), "serialization")]),
        }
        for status, _, description in op.answers
    }
    return spec


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _with_files(body_ref: str) -> dict[str, Any]:
    """The multipart form of a body: its JSON in `body`, and files, checked by their content
    against `[triage] answer_file_*` (JPEG, PNG, WebP and PDF up to 10 MB by default)."""
    return {
        "schema": {
            "type": "object",
            "required": ["body"],
            "properties": {
                "body": {"$ref": body_ref},
                "files": {
                    "type": "array",
                    "items": {"type": "string", "contentMediaType": "application/octet-stream"},
                },
            },
        },
        "encoding": {"body": {"contentType": "application/json"}},
    }


def _path_parameter(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    properties = model.model_json_schema(by_alias=True)["properties"]
    parameters = []
    for name, prop in properties.items():
        schema = {k: v for k, v in prop.items() if k not in ("title", "description", "anyOf")}
        # A query parameter is absent rather than null: keep the one branch that is not null.
        branches = [b for b in prop.get("anyOf", []) if b.get("type") != "null"]
        schema.update(branches[0] if branches else {})
        if schema.get("default", 0) is None:
            del schema["default"]
        parameters.append(
            {
                "name": name,
                "in": "query",
                "required": False,
                "schema": schema,
                "description": prop.get("description", ""),
            }
        )
    return parameters
