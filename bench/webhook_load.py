"""The load side of bench/whatsapp_webhook.py, run as its own process: posts signed WhatsApp
webhooks and prints one JSON line of figures.

    python bench/webhook_load.py URLS APP_SECRET PHONE_ID COUNT CONNECTIONS RATE RUN

URLS is one webhook URL or several separated by commas (message n goes to URL n mod k).

RATE 0 sends as fast as the connections allow; otherwise it paces the starts at RATE per second
(an open loop, so a slow server shows up as latency, not as a lower offered rate).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import statistics
import sys
import time

import aiohttp


def body(phone: str, run: str, n: int) -> bytes:
    sender = f"628{n % 2000:09d}"
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "6281100000000", "phone_number_id": phone},
        "contacts": [{"profile": {"name": f"Warga {n % 2000}"}, "wa_id": sender}],
        "messages": [
            {
                "from": sender,
                "id": f"wamid.{run}{n:09d}",
                "timestamp": str(1763863200 + n),
                "type": "text",
                "text": {"body": f"Laporan {n}: lampu jalan mati di Desa Kayen sejak kemarin."},
            }
        ],
    }
    payload = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"value": value, "field": "messages"}]}],
    }
    return json.dumps(payload, separators=(",", ":")).encode()


async def main(
    urls: list[str], secret: str, phone: str, count: int, connections: int, rate: float, run: str
) -> None:
    bodies = [body(phone, run, n) for n in range(count)]
    signatures = [
        "sha256=" + hmac.new(secret.encode(), b, hashlib.sha256).hexdigest() for b in bodies
    ]
    latencies: list[float] = []
    failures = 0
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def post(n: int) -> None:
            nonlocal failures
            headers = {"Content-Type": "application/json", "X-Hub-Signature-256": signatures[n]}
            started = time.perf_counter()
            async with http.post(urls[n % len(urls)], data=bodies[n], headers=headers) as response:
                await response.read()
                if response.status != 200:
                    failures += 1
                    return
            latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        cpu_started = time.process_time()  # after signing: only the sending is the load's share
        if rate > 0:
            tasks = []
            for n in range(count):
                delay = started + n / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(post(n)))
            await asyncio.gather(*tasks)
        else:
            queue = iter(range(count))

            async def worker() -> None:
                for n in queue:
                    await post(n)

            await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
    ordered = sorted(latencies)
    print(
        json.dumps(
            {
                "acknowledged": len(latencies),
                "failed": failures,
                "seconds": elapsed,
                "cpu_seconds": cpu,
                "per_second": len(latencies) / elapsed,
                "p50_ms": statistics.median(ordered) * 1000 if ordered else None,
                "p99_ms": ordered[int(len(ordered) * 0.99) - 1] * 1000 if ordered else None,
            }
        )
    )


if __name__ == "__main__":
    url_list, secret, phone, count, connections, rate, run = sys.argv[1:]
    asyncio.run(
        main(url_list.split(","), secret, phone, int(count), int(connections), float(rate), run)
    )
