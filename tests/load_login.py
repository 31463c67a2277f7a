"""A separate process that floods the sign-in page, as many machines guessing passwords would.

Usage: python tests/load_login.py BASE_URL POSTERS MAX_SECONDS

POSTERS browsers each fetch /login once, then post wrong sign-ins as fast as they are answered,
each with another username and another X-Forwarded-For address. Prints "ready" once every
poster has its form, floods until standard input closes (or MAX_SECONDS pass), then prints the
count of each answer's status as JSON. Kept out of the test's process so that the flood's
client work does not slow the latency the test measures.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import sys
import time
from collections import Counter

import aiohttp

_CSRF = re.compile(r'name="csrf" value="([^"]*)"')


async def poster(
    base: str, number: int, ready: asyncio.Queue[None], stop: asyncio.Event, answers: Counter[int]
) -> None:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.get(f"{base}/login") as form:
            found = _CSRF.search(await form.text())
        assert found, "no sign-in form"
        await ready.put(None)
        for attempt in itertools.count():
            if stop.is_set():
                return
            data = {
                "csrf": found.group(1),
                "username": f"tamu{number}-{attempt}",
                "password": "tebak-tebak",
            }
            headers = {"X-Forwarded-For": f"203.0.{number}.{attempt % 250 + 1}"}
            async with http.post(
                f"{base}/login", data=data, headers=headers, allow_redirects=False
            ) as answer:
                await answer.read()
                answers[answer.status] += 1


async def main(base: str, posters: int, max_seconds: float) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    ready: asyncio.Queue[None] = asyncio.Queue()
    answers: Counter[int] = Counter()
    tasks = [asyncio.create_task(poster(base, n, ready, stop, answers)) for n in range(posters)]
    for _ in range(posters):
        await ready.get()
    print("ready", flush=True)
    started = time.monotonic()
    closed = loop.run_in_executor(None, sys.stdin.read)  # the test closes stdin to stop us
    await asyncio.wait([closed], timeout=max_seconds)
    stop.set()
    await asyncio.gather(*tasks)
    print(json.dumps({"seconds": round(time.monotonic() - started, 2), **answers}), flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), float(sys.argv[3])))
