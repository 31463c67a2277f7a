"""Ten years of reports: the operator's pages and the daily jobs over a big history.

Generates N tickets (default 1,000,000) over ten years through the store's bulk insert, cached
per backend under --cache (later runs start from a copy in seconds), then measures through the
real HTTP app with signed-in staff: p50/p95 of the queue, each filter, searches, a ticket page,
the API walked by cursor, statistics, the digest, the sweeps, the WhatsApp webhook's rate on
the big database against an empty one (rounds alternating between the two, the median share
reported), and the resident memory of `main.py serve` run as its own process on the history
(bench/history_server.py). Both backends in one run.

    .venv/bin/python bench/history.py --quick            # 50,000 tickets
    nice -n 10 .venv/bin/python bench/history.py --tickets 1000000
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import logging
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import history_site
from history_server import memory_mib, running_server
from history_site import PHONE, SECRET, Site, running_site
from webhook_load import body as webhook_body

from store.db import Database

QUICK = 50_000


class Clock:
    """The service's "now": the end of the generated history, moving with real time."""

    def __init__(self, end: datetime) -> None:
        self.offset = end - datetime.now(UTC)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


def samples(db: Database) -> dict[str, str]:
    """A word, a phone number and a ticket number that the history holds, chosen at random."""
    rng = random.Random(7)
    with db.engine.connect() as conn:
        top = conn.exec_driver_sql("SELECT max(id) FROM tickets").scalar() or 1
        number = conn.exec_driver_sql(
            f"SELECT number FROM tickets WHERE id = {rng.randint(1, top)}"
        ).scalar()
        phone = conn.exec_driver_sql(
            "SELECT contact FROM reporters WHERE channel = 'whatsapp'"
            " ORDER BY id LIMIT 1 OFFSET 100"
        ).scalar()
    return {"number": str(number), "phone": str(phone), "word": "Sambiroto"}


def operator_paths(found: dict[str, str], day: str) -> list[tuple[str, str, str, dict[str, str]]]:
    """(label, who, path, query) of every page and API call measured; who is operator or
    supervisor. The CI test walks the same list."""
    month_from = f"{day[:7]}-01"
    year_from = f"{int(day[:4]) - 1}{day[4:]}"
    paths = [("queue page", "operator", "/", {})]
    for status in ("new", "clarifying", "forwarded", "in_progress", "resolved", "closed", "all"):
        paths.append((f"filter status={status}", "operator", "/", {"status": status}))
    for name, value in (
        ("channel", "instagram"),
        ("category", "jalan_jembatan"),
        ("opd", "PUPR"),
        ("overdue", "1"),
        ("answered", "1"),
        ("flag", "out_of_jurisdiction"),
        ("flag", "duplicate"),
    ):
        paths.append((f"filter {name}={value}", "operator", "/", {name: value}))
    paths.append(("filter closed, page 40", "operator", "/", {"status": "closed", "page": "40"}))
    paths.append(("filter all, channel=x", "operator", "/", {"status": "all", "channel": "x"}))
    for kind in ("word", "phone", "number"):
        paths.append((f"search a {kind}", "operator", "/", {"q": found[kind], "status": "all"}))
    paths.append(("search a word, API", "operator", "/api/tickets", {"q": found["word"]}))
    paths.append(("ticket page", "operator", f"/tickets/{found['number']}", {}))
    paths.append(("ticket, API", "operator", f"/api/tickets/{found['number']}", {}))
    paths.append(("/stats, a month", "supervisor", "/stats", {"from": month_from, "to": day}))
    paths.append(("/stats, a year", "supervisor", "/stats", {"from": year_from, "to": day}))
    paths.append(
        ("/api/stats, a month", "supervisor", "/api/stats", {"from": month_from, "to": day})
    )
    paths.append(("/api/stats, a year", "supervisor", "/api/stats", {"from": year_from, "to": day}))
    return paths


async def timed(call: Callable[[], Awaitable[Any]], repeat: int) -> list[float]:
    await call()  # warm: the first call fills caches the rest share
    spent = []
    for _ in range(repeat):
        started = time.perf_counter()
        await call()
        spent.append(time.perf_counter() - started)
    return spent


def p(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


async def _get(site: Site, who: str, path: str, query: dict[str, str]) -> None:
    client: Any = site.operator if who == "operator" else site.supervisor
    token = site.token if who == "operator" else site.supervisor_token
    headers = {"Authorization": f"Bearer {token}"} if path.startswith("/api/") else {}
    async with client.get(path, params=query, headers=headers, allow_redirects=False) as resp:
        await resp.read()
        if resp.status != 200:
            raise RuntimeError(f"{path} {query}: {resp.status}")


async def walk(site: Site, budget: float) -> tuple[int, float]:
    """/api/tickets by cursor from the newest to the end (or until `budget` seconds)."""
    seen, cursor, started = 0, None, time.perf_counter()
    headers = {"Authorization": f"Bearer {site.token}"}
    while time.perf_counter() - started < budget:
        query = {"limit": "200", **({"cursor": cursor} if cursor else {})}
        async with site.operator.get("/api/tickets", params=query, headers=headers) as resp:
            page = await resp.json()
        seen += len(page["items"])
        cursor = page.get("next_cursor")
        if not cursor:
            break
    return seen, time.perf_counter() - started


async def webhook_rate(site: Site, count: int, connections: int = 16) -> tuple[float, float]:
    """Signed WhatsApp deliveries per second acknowledged (each one committed) by the app, and
    the p99 of their answers in seconds."""
    run = f"h{random.randrange(10**6)}"
    bodies = [webhook_body(PHONE, run, n) for n in range(count)]
    signatures = [
        "sha256=" + hmac.new(SECRET.encode(), b, hashlib.sha256).hexdigest() for b in bodies
    ]
    queue = iter(range(count))
    latencies: list[float] = []

    async def sender() -> None:
        for n in queue:
            headers = {"Content-Type": "application/json", "X-Hub-Signature-256": signatures[n]}
            started = time.perf_counter()
            async with site.operator.post(
                "/webhooks/whatsapp", data=bodies[n], headers=headers
            ) as answer:
                await answer.read()
                if answer.status != 200:
                    raise RuntimeError(f"webhook answered {answer.status}")
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(sender() for _ in range(connections)))
    return count / (time.perf_counter() - started), p(latencies, 0.99)


async def webhook_during_clean_up(site: Site, count: int) -> tuple[float, float, float] | None:
    """The webhook while the retention clean-up empties ten years of raw payloads: rate, p99
    and the longest clean-up transaction; None where the code has no clean-up."""
    try:
        from store.retention import Keep, prune
    except ImportError:
        return None
    runtime = site.runtime
    cleaning = asyncio.create_task(
        asyncio.to_thread(prune, runtime.db, runtime.clock(), Keep(), batch=500)
    )
    rate, p99 = await webhook_rate(site, count)
    done = await cleaning
    return rate, p99, max(done.batch_seconds)


async def webhook_rounds(
    big: Any, empty: Any, count: int, rounds: int
) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    """(big, empty) webhook rates and p99s, alternating the two databases round by round, so
    that the machine's load drifting during the run weighs on both alike."""
    await webhook_rate(big, 200)  # warm-up
    await webhook_rate(empty, 200)
    found = []
    for _ in range(rounds):
        found.append((await webhook_rate(big, count), await webhook_rate(empty, count)))
    return found


async def server_memory(
    url: str, data_dir: Path, clock: Clock, found: dict[str, str], day: str, *, strict: bool = True
) -> dict[str, float]:
    """The peak and current RSS of `main.py serve` (its own process) after the operator's
    paths, a short cursor walk and a few hundred webhooks."""
    async with running_server(url, data_dir, clock) as server:
        for _label, who, path, query in operator_paths(found, day):
            try:
                await _get(server, who, path, query)
            except RuntimeError:
                if strict:
                    raise  # else: the empty database has no such ticket

        await walk(server, budget=10)
        await webhook_rate(server, 500)
        return memory_mib(server.pid)


async def measure(cached: history_site.Cached, args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {}
    clock = Clock(cached.end)
    data_dir = args.cache / f"data-{cached.backend}"
    db = Database(cached.url)
    found = samples(db)
    db.dispose()
    day = (cached.end - timedelta(days=1)).astimezone(UTC).date().isoformat()
    empty = history_site.empty_database(cached.backend, args.cache)
    async with running_site(cached.url, data_dir, clock) as site:
        await history_site.start_up_jobs_done(site.runtime.db)
        for label, who, path, query in operator_paths(found, day):
            results[label] = await timed(
                lambda w=who, u=path, q=query: _get(site, w, u, q), args.repeat
            )
        seen, seconds = await walk(site, args.walk_seconds)
        results["API cursor walk"] = (seen, seconds)
        runtime = site.runtime
        assert runtime.notifier is not None
        digest_day = (clock() - timedelta(days=1)).astimezone(runtime.settings.region.tz).date()
        notifier = runtime.notifier
        results["digest"] = await timed(
            lambda: asyncio.to_thread(notifier.build, digest_day), max(3, args.repeat // 4)
        )
        results["sweep pass"] = await timed(lambda: asyncio.to_thread(runtime.sweeps.run), 5)
        results["escalation alerts pass"] = await timed(
            lambda: asyncio.to_thread(notifier.sweep_escalations), 5
        )
        async with running_site(empty, args.cache / "data-empty", clock) as blank:
            rounds = await webhook_rounds(site, blank, args.webhooks, args.rounds)
        middle = sorted(rounds, key=lambda r: r[0][0] / r[1][0])[len(rounds) // 2]
        results["webhook"], results["webhook, empty database"] = middle
        results["webhook share, each round"] = [big[0] / none[0] for big, none in rounds]
        results["webhook during clean-up"] = await webhook_during_clean_up(site, args.webhooks)
    memory = await server_memory(cached.url, data_dir / "server", clock, found, day)
    results["server RSS peak MiB"] = memory["VmHWM"]
    results["server RSS now MiB"] = memory["VmRSS"]
    # The same calls on the (nearly) empty database: what the process needs whatever the size.
    blank = await server_memory(
        empty, args.cache / "data-empty" / "server", clock, found, day, strict=False
    )
    results["server RSS peak MiB, empty database"] = blank["VmHWM"]
    return results


def table(all_results: dict[str, dict[str, Any]], tickets: int) -> str:
    backends = list(all_results)
    header = f"{'at ' + format(tickets, ',') + ' tickets':<32}" + "".join(
        f"{b + ' p50':>16}{b + ' p95':>28}" for b in backends
    )
    lines = [header, "-" * len(header)]
    first = all_results[backends[0]]
    for label in first:
        cells = []
        for backend in backends:
            got = all_results[backend][label]
            if isinstance(got, list) and label != "webhook share, each round":
                cells += [
                    f"{statistics.median(got) * 1000:>11.1f} ms",
                    f"{p(got, 0.95) * 1000:>11.1f} ms",
                ]
            elif got is None:
                cells += ["n/a", ""]
            elif label == "API cursor walk":
                cells += [f"{got[0] / got[1]:>8.0f} tickets/s", f"{got[0]:>8} seen"]
            elif label == "webhook share, each round":
                cells += [" ".join(f"{share:.0%}" for share in got), ""]
            elif label.startswith("webhook"):
                cells += [f"{got[0]:>7.0f} msg/s", f"p99 {got[1] * 1000:>6.1f} ms"]
                if len(got) > 2:
                    cells[-1] += f" ({got[2] * 1000:.0f} ms tx)"
            else:
                cells += [f"{got:>10.0f} MiB", ""]
        lines.append(
            f"{label:<32}"
            + "".join(f"{c:>16}" if i % 2 == 0 else f"{c:>28}" for i, c in enumerate(cells))
        )
    for backend in backends:
        r = all_results[backend]
        share = r["webhook"][0] / r["webhook, empty database"][0]
        lines.append(
            f"{backend}: webhook on the big database at {share:.0%} of the empty one"
            f" (the median of {len(r['webhook share, each round'])} alternating rounds)"
        )
    return "\n".join(lines)


def generate(url: str, tickets: int, meta: Path) -> None:
    from history_data import History, analyze

    end = datetime.now(UTC).replace(microsecond=0)
    db = Database(url)
    History(db.engine, tickets, end, history_site.categories()).write()
    analyze(db.engine)
    db.dispose()
    meta.write_text(json.dumps({"end": end.isoformat(), "tickets": tickets}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK:,} tickets")
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "kanal-bench")
    parser.add_argument("--fresh", action="store_true", help="generate again, ignoring the cache")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--walk-seconds", type=float, default=60.0)
    parser.add_argument("--webhooks", type=int, default=2000, help="per round")
    parser.add_argument("--rounds", type=int, default=5, help="webhook rounds, alternating")
    parser.add_argument("--generate", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--meta", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        args.tickets = QUICK
    if args.generate:
        generate(args.generate, args.tickets, args.meta)
        return
    # The generated open tickets' replies fall outside WhatsApp's 24-hour window with no template
    # configured: each failed send would print a warning line, thousands of them.
    logging.getLogger("triage.outbox").setLevel(logging.ERROR)
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    results = {}
    for backend in backends:
        cached = history_site.prepare(backend, args.tickets, args.cache, fresh=args.fresh)
        results[backend] = asyncio.run(measure(cached, args))
    print(table(results, args.tickets))


if __name__ == "__main__":
    main()
