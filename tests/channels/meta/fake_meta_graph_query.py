"""How the fake Graph server reads `fields`, orders objects and encodes paging cursors."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any


def time_of(obj: dict[str, Any]) -> str:
    return str(obj.get("created_time") or obj.get("timestamp") or "")


def parse_time(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")


def encode_cursor(offset: int, repeated: bool) -> str:
    return base64.urlsafe_b64encode(f"{offset}:{int(repeated)}".encode()).decode()


def decode_cursor(token: str) -> tuple[int, bool]:
    offset, repeated = base64.urlsafe_b64decode(token.encode()).decode().split(":")
    return int(offset), repeated == "1"


def parse_fields(spec: str) -> dict[str, Any]:
    """ "id,from,parent{id},replies{id,text}" -> {"id": None, ..., "parent": {"id": None}}."""
    fields: dict[str, Any] = {}
    depth, name, start = 0, "", 0
    for i, char in enumerate(spec + ","):
        if char == "{":
            if depth == 0:
                name, start = spec[start:i].strip(), i + 1
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                fields[name.split(".")[0]] = parse_fields(spec[start:i])
                start = i + 1
                name = ""
        elif char == "," and depth == 0:
            part = spec[start:i].strip()
            if part:
                fields[part.split(".")[0]] = None
            start = i + 1
    return fields


def select_fields(obj: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    """What Graph shows of `obj` for `fields` (id always)."""
    shown: dict[str, Any] = {"id": obj["id"]} if "id" in obj else {}
    for name, nested in fields.items():
        if name not in obj:
            continue
        value = obj[name]
        if nested and isinstance(value, dict) and isinstance(value.get("data"), list):
            value = {**value, "data": [select_fields(v, nested) for v in value["data"]]}
        elif nested and isinstance(value, dict):
            value = select_fields(value, nested)
        shown[name] = value
    return shown
