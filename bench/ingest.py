"""Intake throughput: many concurrent callers push normalized messages through the intake sink.

Prints messages per second and p50/p99 latency per submit, with group commit and with one
commit per message (the same sink with batches of one and no wait), on SQLite and PostgreSQL.

    .venv/bin/python bench/ingest.py --messages 20000 --callers 200
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from channels.base import InboundMessage
from store.db import Database
from triage.intake import Intake

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
TEXTS = [
    "Jalan di Desa Kayen berlubang besar, mohon segera diperbaiki.",
    "Lampu PJU di Jl. Pati-Juwana mati sejak tiga hari.",
    "Air PDAM mati sejak kemarin pagi di Perumahan Puri.",
    "Sampah menumpuk di dekat Pasar Puri, bau sekali.",
]


@dataclass
class Figures:
    label: str
    messages: int
    seconds: float
    latencies: list[float]

    def line(self) -> str:
        lat = sorted(self.latencies)
        p50 = statistics.median(lat) * 1000
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000
        return (
            f"{self.label:<34} {self.messages / self.seconds:>9.0f} msg/s   "
            f"p50 {p50:>7.2f} ms   p99 {p99:>7.2f} ms   ({self.messages} messages)"
        )


def message(n: int, run: str) -> InboundMessage:
    return InboundMessage(
        channel="whatsapp",
        account="1234567890",
        external_id=f"wamid.{run}.{n}",
        sender_id=f"628{n % 5000:09d}",  # 5,000 reporters: most messages join an open ticket
        sent_at=datetime.now(UTC),
        text=TEXTS[n % len(TEXTS)],
        display_name=f"Warga {n % 5000}",
        contact=f"+628{n % 5000:09d}",
        raw={"id": f"wamid.{run}.{n}", "text": {"body": TEXTS[n % len(TEXTS)]}},
    )


async def drive(db: Database, total: int, callers: int, *, grouped: bool, run: str) -> Figures:
    intake = Intake(db, max_batch=500 if grouped else 1, max_delay=0.002 if grouped else 0.0)
    await intake.start()
    latencies: list[float] = []
    counter = iter(range(total))

    async def caller() -> None:
        for n in counter:
            started = time.perf_counter()
            await intake.submit([message(n, run)])
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(callers)))
    elapsed = time.perf_counter() - started
    await intake.stop()
    label = "group commit" if grouped else "one commit per message"
    return Figures(f"{db.dialect:<10} {label}", total, elapsed, latencies)


def fresh_database(backend: str, folder: Path) -> Database:
    if backend == "sqlite":
        db = Database(f"sqlite:///{folder / 'bench.db'}")
    else:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute("DROP DATABASE IF EXISTS kanal_bench WITH (FORCE)")
            admin.execute("CREATE DATABASE kanal_bench")
        db = Database("postgresql+psycopg://postgres@127.0.0.1:5432/kanal_bench")
    db.create_schema()
    return db


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument(
        "--single-messages",
        type=int,
        default=2000,
        help="messages for the one-commit-per-message run (it is slow)",
    )
    parser.add_argument("--callers", type=int, default=200)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    print(f"{args.callers} concurrent callers, one message per submit")
    for backend in backends:
        with tempfile.TemporaryDirectory() as tmp:
            db = fresh_database(backend, Path(tmp))
            single = await drive(db, args.single_messages, args.callers, grouped=False, run="s")
            if backend == "postgresql":
                # What autovacuum does on a live server: without statistics the planner scans
                # a growing table instead of using the unique indexes.
                with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                    c.exec_driver_sql("ANALYZE")
            grouped = await drive(db, args.messages, args.callers, grouped=True, run="g")
            print(single.line())
            print(grouped.line())
            ratio = (grouped.messages / grouped.seconds) / (single.messages / single.seconds)
            print(f"{backend:<10} group commit / one commit per message: {ratio:.1f}x")
            db.dispose()


if __name__ == "__main__":
    asyncio.run(main())
