"""Fuzzing the webhooks: mutated real payloads (../shared/corpus and each channel's fixtures),
each with a good message beside it, posted signed and concurrently to the real webhook app and
intake.

No response may be a 5xx and no good message may be missing, on SQLite and PostgreSQL. The
mutations are what careless platforms and attackers send: a value of another type (number,
list, object, null, boolean, 2**70), lone surrogates, NUL, very long strings, deleted or
renamed keys.
"""

from __future__ import annotations

import asyncio
import copy
import json
import random
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, func, select
from webhook_harness import Webhooks, serve_webhooks

from conftest import FixedClock, corpus_dir
from store.db import Database
from store.models import Message, RawEvent
from support.paths import fixtures_of
from triage.intake import Intake
from triage.intake_fit import UNSTORABLE_KIND

SEED = 15
# Mutated payloads per database, by channel: 3,000 in all, well under a minute.
COUNTS = {"whatsapp": 1200, "facebook": 500, "instagram": 300, "telegram": 1000}
CONCURRENCY = 32
OBJECTS = {"whatsapp": "whatsapp_business_account", "facebook": "page", "instagram": "instagram"}


# --- what is mutated --------------------------------------------------------------------------


def _json_files(folder: Path) -> list[Any]:
    found = []
    for path in sorted(folder.glob("*.json")):
        try:
            found.append(json.loads(path.read_text(encoding="utf-8")))
        except ValueError:
            continue  # a fixture that is deliberately not JSON
    return found


def seeds() -> dict[str, list[dict[str, Any]]]:
    """Real payloads to start from: one webhook body (or Telegram update) each."""
    bodies = {
        "whatsapp": [b for cases in _json_files(corpus_dir("whatsapp")) for b in cases.values()]
        + _json_files(fixtures_of("whatsapp")),
        "facebook": _json_files(fixtures_of("facebook")),
        "instagram": _json_files(fixtures_of("instagram")),
    }
    # Only webhook bodies of the platform (the fixtures hold Graph answers and foreign bodies).
    found = {
        name: [b for b in found if b.get("object") == OBJECTS[name] and b.get("entry")]
        for name, found in bodies.items()
    }
    found["telegram"] = [u for u in _json_files(fixtures_of("telegram")) if "update_id" in u]
    return found


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON value that a mutation can hit."""
    found: list[tuple[Any, ...]] = []
    children = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else ()
    )
    for key, child in children:
        path = (*prefix, key)
        found.append(path)
        found.extend(_paths(child, path))
    return found


def _swap(value: Any, rng: random.Random) -> Any:
    choices: list[Any] = [5, -1, 2**70, -(2**70), 1.5e308, [1, "x"], {"a": 1}, None, True, ""]
    return rng.choice(choices)


def _text(value: Any, rng: random.Random) -> Any:
    base = value if isinstance(value, str) else str(value)
    kind = rng.randrange(4)
    if kind == 0:
        return base + "\ud800"
    if kind == 1:
        return "\udfff" + base
    if kind == 2:
        return base[: len(base) // 2] + "\x00" + base[len(base) // 2 :]
    return base + rng.choice(["x", "é", "😀", "9"]) * rng.choice([400, 600, 5000])


def mutate(body: Any, rng: random.Random, root: tuple[Any, ...]) -> Any:
    """`body` with one to three places at or under `root` changed."""
    body = copy.deepcopy(body)
    for _ in range(rng.randint(1, 3)):
        places = [p for p in _paths(body) if p[: len(root)] == root]
        if not places:
            break
        path = rng.choice(places)
        parent = body
        for key in path[:-1]:
            parent = parent[key]
        key = path[-1]
        action = rng.randrange(4)
        if action == 0 and isinstance(parent, dict):
            del parent[key]
        elif action == 3 and isinstance(parent, dict):
            parent[_text(key, rng)] = parent.pop(key)  # a key no platform would send
        elif action == 1:
            parent[key] = _text(parent[key], rng)
        else:
            parent[key] = _swap(parent[key], rng)
    return body


# --- the good message beside each mutated one -------------------------------------------------


def good_whatsapp(n: int) -> dict[str, Any]:
    sender = f"6281{n:08d}"
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "6282100000000", "phone_number_id": "106540352242922"},
        "contacts": [{"profile": {"name": f"Warga {n}"}, "wa_id": sender}],
        "messages": [
            {
                "from": sender,
                "id": f"wamid.fuzzgood{n}",
                "timestamp": "1795395600",
                "type": "text",
                "text": {"body": f"Laporan baik nomor {n}"},
            }
        ],
    }
    return {"id": "102290129340398", "changes": [{"field": "messages", "value": value}]}


def good_meta(n: int, channel: str) -> dict[str, Any]:
    event = {
        "sender": {"id": f"61{n:010d}"},
        "recipient": {"id": "2121008874780932"},
        "timestamp": 1795399140000,
        "message": {"mid": f"m_fuzzgood_{channel}_{n}", "text": f"Laporan baik nomor {n}"},
    }
    return {"id": "2121008874780932", "time": 1795399200000, "messaging": [event]}


def good_telegram(n: int) -> dict[str, Any]:
    chat = {"id": 7_770_000_000 + n, "first_name": "Warga", "type": "private"}
    return {
        "update_id": 990_000_000 + n,
        "message": {
            "message_id": n,
            "from": {"id": chat["id"], "is_bot": False, "first_name": "Warga"},
            "chat": chat,
            "date": 1795395611,
            "text": f"Laporan baik nomor {n}",
        },
    }


def good_id(channel: str, n: int) -> str:
    if channel == "whatsapp":
        return f"wamid.fuzzgood{n}"
    if channel == "telegram":
        return f"{7_770_000_000 + n}:{n}"
    return f"m_fuzzgood_{channel}_{n}"


def deliveries(found: dict[str, list[dict[str, Any]]]) -> list[tuple[str, bytes, str]]:
    """(channel, body, the good message's id) for every delivery, the same on every run."""
    rng = random.Random(SEED)
    out: list[tuple[str, bytes, str]] = []
    n = 0
    for channel, count in COUNTS.items():
        for _ in range(count):
            n += 1
            base = rng.choice(found[channel])
            if channel == "telegram":
                mutated = mutate(base, rng, ())
                out.append((channel, _dumps(mutated), ""))
                out.append((channel, _dumps(good_telegram(n)), good_id(channel, n)))
                continue
            body = mutate({**base, "entry": base["entry"][:1]}, rng, ("entry", 0))
            good = good_whatsapp(n) if channel == "whatsapp" else good_meta(n, channel)
            body["entry"].append(good)
            out.append((channel, _dumps(body), good_id(channel, n)))
    rng.shuffle(out)
    return out


def _dumps(payload: Any) -> bytes:
    # Meta and Telegram send ASCII JSON: a lone surrogate arrives as its \\u escape.
    return json.dumps(payload, ensure_ascii=True).encode()


# --- the run ----------------------------------------------------------------------------------


@pytest.fixture
async def hooks(intake: Intake, tmp_path: Path, clock: FixedClock) -> AsyncIterator[Webhooks]:
    async with serve_webhooks(intake, tmp_path, clock) as served:
        yield served


async def test_mutated_payloads_never_get_a_5xx_nor_lose_the_good_message(
    hooks: Webhooks, db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    planned = deliveries(seeds())
    gate = asyncio.Semaphore(CONCURRENCY)

    async def send(channel: str, body: bytes) -> int:
        async with gate:
            return await hooks.post(channel, body)

    statuses = await asyncio.gather(*(send(channel, body) for channel, body, _ in planned))
    with db.read() as session:
        stored = set(session.exec(select(Message.external_id)).all())
        kept = session.exec(select(func.count()).where(col(RawEvent.error).is_not(None))).one()
        by_writer = session.exec(select(func.count()).where(RawEvent.kind == UNSTORABLE_KIND)).one()
    wanted = {good for _, _, good in planned if good}
    missing = sorted(wanted - stored)
    server_errors = sum(1 for status in statuses if status >= 500)
    mutated = sum(1 for channel, _, good in planned if channel != "telegram" or not good)
    with capsys.disabled():
        print(
            f"\nfuzz webhooks on {db.dialect}: {mutated} mutated payloads in {len(planned)}"
            f" deliveries, {server_errors} responses 5xx, {len(missing)} good messages missing"
            f" of {len(wanted)}; {kept} items kept as unreadable ({by_writer} by the intake"
            " writer, the rest by the channels' parsers);"
            f" statuses {dict(Counter(statuses))}"
        )
    assert server_errors == 0
    assert missing == []
    assert set(statuses) == {200}
