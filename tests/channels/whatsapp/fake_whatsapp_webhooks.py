"""Meta's side of WhatsApp webhooks: bodies serialised and signed as Meta sends them."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp

if TYPE_CHECKING:
    from fake_whatsapp_cloud import Failure


def webhook_bytes(payload: Mapping[str, Any]) -> bytes:
    """Meta's serialisation: compact JSON with non-ASCII escaped as lowercase \\uXXXX."""
    return json.dumps(payload, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def signature(body: bytes, app_secret: str) -> str:
    """The X-Hub-Signature-256 value Meta sends: HMAC-SHA256 of the raw body with the app secret."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


async def post_webhook(
    http: aiohttp.ClientSession,
    url: str,
    body: bytes | Mapping[str, Any],
    app_secret: str | None,
    *,
    headers: Mapping[str, str] | None = None,
) -> tuple[int, str]:
    """POST one delivery the way Meta does; app_secret=None sends it unsigned."""
    raw = body if isinstance(body, bytes) else webhook_bytes(body)
    sent = {"Content-Type": "application/json", "User-Agent": "facebookexternalua"}
    if app_secret is not None:
        sent["X-Hub-Signature-256"] = signature(raw, app_secret)
    sent.update(headers or {})
    async with http.post(url, data=raw, headers=sent) as resp:
        return resp.status, await resp.text()


def status_webhook(
    phone_number_id: str,
    wamid: str,
    status: str,
    *,
    recipient_id: str = "6281234567890",
    timestamp: int = 1763863200,
    error: Failure | None = None,
    callback_data: str | None = None,
) -> dict[str, Any]:
    """A statuses[] delivery for a message we sent, as Meta shapes it."""
    entry: dict[str, Any] = {
        "id": wamid,
        "status": status,
        "timestamp": str(timestamp),
        "recipient_id": recipient_id,
    }
    if callback_data is not None:
        entry["biz_opaque_callback_data"] = callback_data
    if error is not None:
        entry["errors"] = [
            {
                "code": error.code,
                "title": error.message,
                "message": error.message,
                "error_data": {"details": error.details or error.message},
                "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
            }
        ]
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "6281100000000", "phone_number_id": phone_number_id},
        "statuses": [entry],
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"value": value, "field": "messages"}]}],
    }


# --- recorded and hand-made webhook bodies ----------------------------------------------------

# The phone_number_id our test configs use, and our own recorded and hand-made bodies.
OUR_ACCOUNT = "106540352242922"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def webhook_cases(corpus: Path, fixtures: Path) -> dict[str, bytes]:
    """Every webhook body to test with, by case id, as the bytes Meta would post.

    Corpus files hold {case name: body} ("corpus/message/text"); our own fixtures hold one body
    each and are named <event>__<detail>.json ("fixtures/edit__text"). A fixture that is not
    valid JSON is posted as it is.
    """
    cases: dict[str, bytes] = {}
    for path in sorted(corpus.glob("*.json")):
        for name, body in json.loads(path.read_text(encoding="utf-8")).items():
            cases[f"corpus/{path.stem}/{name}"] = webhook_bytes(body)
    for path in sorted(fixtures.glob("*.json")):
        raw = path.read_bytes()
        try:
            cases[f"fixtures/{path.stem}"] = webhook_bytes(json.loads(raw))
        except ValueError:
            cases[f"fixtures/{path.stem}"] = raw
    return cases
