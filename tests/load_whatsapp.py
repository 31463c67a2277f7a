"""A separate process that plays Meta: posts signed WhatsApp webhooks and retries until 200.

Usage: python tests/load_whatsapp.py URLS APP_SECRET PHONE_NUMBER_ID COUNT CONNECTIONS ACKED_FILE

URLS is one webhook URL or several separated by commas (processes behind a load balancer):
message n goes to URL n mod k, moves on to the next URL when one does not answer, and every
fifth message is delivered a second time to another URL, as Meta's retries may land anywhere.

Each acknowledged wamid is appended to ACKED_FILE (flushed at once), so a test can check that
everything that got a 200 is stored exactly once, whatever happened to the server meanwhile.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent / "channels" / "whatsapp"))

from fake_whatsapp_webhooks import signature, webhook_bytes


def text_webhook(phone_number_id: str, n: int) -> tuple[str, dict[str, Any]]:
    wamid = f"wamid.LOAD{n:08d}"
    sender = f"628{n % 300:09d}"
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "6281100000000", "phone_number_id": phone_number_id},
        "contacts": [{"profile": {"name": f"Warga {n % 300}"}, "wa_id": sender}],
        "messages": [
            {
                "from": sender,
                "id": wamid,
                "timestamp": str(int(time.time())),
                "type": "text",
                "text": {"body": f"Laporan {n}: jalan berlubang di Desa Kayen, mohon diperbaiki."},
            }
        ],
    }
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"value": value, "field": "messages"}]}],
    }
    return wamid, body


async def deliver(
    http: aiohttp.ClientSession,
    urls: list[str],
    first: int,
    secret: str,
    body: bytes,
    deadline: float,
) -> None:
    """Post until a server answers 200, as Meta retries undelivered webhooks."""
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": signature(body, secret)}
    attempt = first
    while time.monotonic() < deadline:
        try:
            async with http.post(urls[attempt % len(urls)], data=body, headers=headers) as response:
                await response.read()
                if response.status == 200:
                    return
        except (aiohttp.ClientError, TimeoutError):
            pass
        attempt += 1
        await asyncio.sleep(0.05)
    raise TimeoutError("no server acknowledged a webhook")


async def main(
    urls: list[str], secret: str, phone: str, count: int, connections: int, acked: Path
) -> None:
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(count):
        queue.put_nowait(n)
    deadline = time.monotonic() + 240
    timeout = aiohttp.ClientTimeout(total=10)
    with acked.open("a", encoding="utf-8") as out:
        async with aiohttp.ClientSession(timeout=timeout) as http:

            async def worker() -> None:
                while not queue.empty():
                    n = queue.get_nowait()
                    wamid, payload = text_webhook(phone, n)
                    body = webhook_bytes(payload)
                    await deliver(http, urls, n, secret, body, deadline)
                    out.write(wamid + "\n")
                    out.flush()
                    if len(urls) > 1 and n % 5 == 0:
                        await deliver(http, urls, n + 1, secret, body, deadline)

            await asyncio.gather(*(worker() for _ in range(connections)))


if __name__ == "__main__":
    _, url_list, secret, phone, count, connections, acked_file = sys.argv
    asyncio.run(
        main(url_list.split(","), secret, phone, int(count), int(connections), Path(acked_file))
    )
