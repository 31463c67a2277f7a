"""Gauges worked out when Prometheus scrapes: figures from the database, and what this
process leads. Computed then, not kept up to date in memory, so that every process reports
the same database figures however the work is spread."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
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
        tickets = GaugeMetricFamily(
            "kanal_tickets_open", "Open tickets per status (the whole database)", labels=["status"]
        )
        for status, count in by_status.items():
            tickets.add_metric([status], count)
        yield tickets
        late = GaugeMetricFamily(
            "kanal_tickets_overdue",
            "Open tickets past a clock: verify (operators), clarification (reporter), "
            "opd (the OPD's answer), resolve (the whole case)",
            labels=["clock"],
        )
        for clock, count in overdue.items():
            late.add_metric([clock], count)
        yield late
        waiting = GaugeMetricFamily(
            "kanal_outbox_backlog",
            "Replies not yet sent, per channel and state (pending: waiting its turn or a retry; "
            "sending: being sent now)",
            labels=["channel", "state"],
        )
        for (channel, state), count in sorted(backlog.items()):
            waiting.add_metric([channel, state], count)
        yield waiting


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
