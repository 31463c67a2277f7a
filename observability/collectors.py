"""Gauges worked out when Prometheus scrapes: figures from the database, and what this
process leads. Computed then, not kept up to date in memory, so that every process reports
the same database figures however the work is spread."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.exc import DBAPIError

from store import gauges
from store.db import Database
from store.leadership import Leadership

log = logging.getLogger(__name__)


class DatabaseGauges(Collector):
    """Open tickets per status, overdue tickets per clock and the outbox backlog per channel:
    a handful of indexed counts per scrape (see store/gauges.py)."""

    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.clock = clock

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily(
            "kanal_database_up", "1 when this scrape could read the database figures, else 0"
        )
        try:
            with self.db.read() as session:
                by_status = gauges.open_by_status(session)
                overdue = gauges.overdue_by_clock(session, self.clock())
                backlog = gauges.outbox_backlog(session)
        except DBAPIError as exc:
            # A scrape during an outage still answers: the in-process figures, and this gauge.
            log.warning("metrics: database figures unavailable: %s", exc.orig or exc)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield _gauge(
            "kanal_tickets_open",
            "Open tickets per status (the whole database)",
            ["status"],
            {(status,): count for status, count in by_status.items()},
        )
        yield _gauge(
            "kanal_tickets_overdue",
            "Open tickets past a clock: verify (operators), clarification (reporter), "
            "opd (the OPD's answer), resolve (the whole case)",
            ["clock"],
            {(clock,): count for clock, count in overdue.items()},
        )
        yield _gauge(
            "kanal_outbox_backlog",
            "Replies not yet sent, per channel and state (pending: waiting its turn or a retry; "
            "sending: being sent now)",
            ["channel", "state"],
            dict(sorted(backlog.items())),
        )


def _gauge(
    name: str, documentation: str, labels: list[str], counts: Mapping[tuple[str, ...], int]
) -> GaugeMetricFamily:
    """One gauge family, a sample per key: the key holds the label values in `labels`' order."""
    family = GaugeMetricFamily(name, documentation, labels=labels)
    for values, count in counts.items():
        family.add_metric(list(values), count)
    return family


class Leaders(Collector):
    """Which singletons (the scheduler, each poller) this process runs right now."""

    def __init__(self, leaders: Sequence[Leadership]) -> None:
        self.leaders = leaders

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "kanal_leader",
            "1 for each singleton this process runs (scheduler, poller:CHANNEL:ACCOUNT), else 0",
            labels=["role"],
        )
        for leader in self.leaders:
            family.add_metric([leader.name], 1 if leader.leading else 0)
        yield family
