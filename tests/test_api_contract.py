"""Every answer of the JSON API, real, on both databases, against the generated OpenAPI document."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import jsonschema
import pytest
from openapi_spec_validator import validate as validate_openapi
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from api_client import Api, report, running_api
from channels.base import Attachment, AttachmentKind, Location
from inbox.openapi import openapi_document
from inbox_site import png
from triage.action_requests import ACTION_REQUEST, Reply

DOCUMENT = "urn:kanal:openapi"
# Answers the scenario cannot provoke without breaking the database under the test.
NOT_PROVOKED = {("post", "/api/tickets/{number}/actions", "503"), ("get", "/healthz", "503")}
NUMBER = "LBP-2026-00001"


class Contract:
    """Checks each answer against the document and remembers which answers were seen."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.document = openapi_document()
        resource = Resource.from_contents(self.document, default_specification=DRAFT202012)
        self.registry = Registry().with_resource(DOCUMENT, resource)
        self.seen: set[tuple[str, str, str]] = set()

    async def call(
        self,
        method: str,
        template: str,
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> tuple[int, Any]:
        path = template.replace("{number}", kwargs.pop("number", NUMBER))
        sent = headers if headers is not None else self.api.headers(token)
        response = await self.api.client.request(method, path, headers=sent, **kwargs)
        body = await response.json()
        status = str(response.status)
        documented = self.document["paths"][template][method]["responses"]
        assert status in documented, f"{method} {template} answered {status}, not documented"
        pointer = "/".join(
            part.replace("~", "~0").replace("/", "~1")
            for part in ("paths", template, method, "responses", status, "content")
        )
        schema = {"$ref": f"{DOCUMENT}#/{pointer}/application~1json/schema"}
        jsonschema.Draft202012Validator(schema, registry=self.registry).validate(body)
        self.seen.add((method, template, status))
        return response.status, body


@pytest.fixture
async def contract(database_url: str, tmp_path: Path, clock) -> AsyncIterator[Contract]:
    async with running_api(database_url, tmp_path, clock) as api:
        yield Contract(api)


def test_the_document_is_valid_openapi() -> None:
    validate_openapi(openapi_document())


def test_the_action_body_is_one_model_per_action() -> None:
    schema = openapi_document()["components"]["schemas"]["ActionRequest"]
    assert schema["discriminator"]["propertyName"] == "action"
    assert set(schema["discriminator"]["mapping"]) == {
        "verify", "request_clarification", "reject", "forward", "acknowledge",
        "resolve", "reopen", "merge", "reply", "note", "answer", "assign", "release",
        "mark_read", "mark_spam", "unmark_spam",
    }  # fmt: skip
    assert ACTION_REQUEST.validate_python({"action": "reply", "message": "x"}) == Reply(message="x")


async def test_every_answer_of_every_endpoint_matches_its_schema(contract: Contract) -> None:
    api = contract.api
    with_media = dataclasses.replace(
        report(1),
        attachments=(Attachment(AttachmentKind.IMAGE, mime_type="image/jpeg", media_ref="m1"),),
        location=Location(-6.7503, 111.0352, name="Kayen"),
    )
    await api.runtime.intake.submit([with_media, report(2)])
    pupr = api.token_for("pupr1", "opd", opd="pupr")
    head = api.token_for("kepala", "supervisor")

    await contract.call("get", "/healthz", headers={})
    assert (await contract.call("get", "/api/openapi.json", headers={}))[0] == 200
    await contract.call("get", "/api/tickets", params={"limit": "0"})
    await contract.call("get", "/api/categories")
    await contract.call("get", "/api/opds")

    act = "/api/tickets/{number}/actions"
    assert (await contract.call("post", act, json={"action": "fly"}))[0] == 422
    assert (await contract.call("post", act, json={"action": "note"}))[0] == 422
    assert (await contract.call("post", act, data=b"{not json"))[0] == 422
    assert (await contract.call("post", act, json={"action": "acknowledge"}))[0] == 409
    assert (await contract.call("post", act, json={"action": "note"}, number="X-1"))[0] == 404
    await contract.call("post", act, json={"action": "verify", "category": "jalan"})
    budi = api.token_for("budi", "operator")
    await contract.call("post", act, json={"action": "assign"}, token=budi)
    _, held = await contract.call("post", act, json={"action": "forward"})
    assert held["holder"] == "budi"
    await contract.call("post", act, json={"action": "forward"}, params={"confirm": "held"})
    assert (await contract.call("post", act, json={"action": "reply"}, token=pupr))[0] == 403
    await contract.call("post", act, json={"action": "acknowledge"}, token=pupr)
    await contract.call("post", act, json={"action": "reply", "message": "Segera", "mode": "dm"})
    merge = {"action": "merge", "into": NUMBER}
    await contract.call("post", act, json=merge, number="LBP-2026-00002")
    # The OPD's answer with files, as multipart: a file that is no picture is refused.
    refused = aiohttp.FormData()
    refused.add_field("body", json.dumps({"action": "answer", "message": "Sudah diganti."}))
    refused.add_field("files", b"<html>", filename="foto.png", content_type="image/png")
    status, body = await contract.call("post", act, data=refused, token=pupr)
    assert (status, body["error"]) == (
        400,
        "Berkas foto.png ditolak: isinya bukan jenis yang diterima (JPG, PNG, WEBP, PDF)."
        " Tidak ada berkas yang disimpan.",
    )
    answer = aiohttp.FormData()
    answer.add_field("body", json.dumps({"action": "answer", "message": "Sudah diganti."}))
    answer.add_field("files", png(), filename="foto.png", content_type="image/png")
    _, answered = await contract.call("post", act, data=answer, token=pupr)
    assert answered["status"] == "answered"
    await contract.call("get", "/api/tickets/{number}", number="LBP-2026-09999")
    _, detail = await contract.call("get", "/api/tickets/{number}")
    assert detail["messages"][0]["attachments"][0]["kind"] == "image"
    assert detail["messages"][0]["location"]["name"] == "Kayen"
    _, page = await contract.call("get", "/api/tickets", params={"limit": "1"})
    assert page["next_cursor"]
    # A later report of the same reporter: the link and the reporter's history are filled.
    resolve = {"action": "resolve", "message": "Sudah."}
    assert (await contract.call("post", act, json=resolve, params={"confirm": "held"}))[0] == 200
    api.clock.advance(timedelta(days=15))
    await api.runtime.intake.submit([report(3, sender=report(1).sender_id)])
    _, later = await contract.call("get", "/api/tickets/{number}", number="LBP-2026-00003")
    assert later["follows"]["number"] == NUMBER
    assert [other["number"] for other in later["reporter_history"]] == [NUMBER]

    await contract.call("get", "/api/stats", token=head)
    await contract.call("get", "/api/stats", token=head, params={"from": "soon"})
    await contract.call("get", "/api/stats")

    for path, operations in contract.document["paths"].items():
        for method, operation in operations.items():
            if operation.get("security"):
                body = {"json": {"action": "note", "text": "x"}} if method == "post" else {}
                assert (await contract.call(method, path, headers={}, **body))[0] == 401

    documented = {
        (method, path, status)
        for path, operations in contract.document["paths"].items()
        for method, operation in operations.items()
        for status in operation["responses"]
    }
    assert documented - contract.seen == NOT_PROVOKED
