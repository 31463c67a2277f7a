"""The in-process metrics of one Kanal app: counters and histograms its parts add to.

A leaf module (prometheus_client only) that intake, outbox and the runtime may import. Each
`Metrics` has its own registry, never prometheus_client's global one: two apps in one process
(tests, benchmarks) count apart, and nothing needs resetting between them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.gc_collector import GCCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

# Webhooks answer in milliseconds (one group commit); seconds mean the database is struggling.
LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# From a report's sent time to its commit: a webhook's seconds, a poller's interval or backlog.
DELAY_BUCKETS = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 900.0, 1800.0, 3600.0, 14400.0)
# Items per intake transaction, up to Intake.max_batch.
BATCH_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500)
SWEEP_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)


class Metrics:
    """Every instrument the running parts record into, on this app's own registry."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self._leaders: Collector | None = None
        ProcessCollector(registry=r)  # CPU, memory, open files of this process
        GCCollector(registry=r)
        self.received = Counter(
            "kanal_messages_received",
            "Citizens' messages stored by this process' intake (repeated deliveries not counted)",
            ["channel"],
            registry=r,
        )
        self.intake_delay = Histogram(
            "kanal_intake_delay_seconds",
            "From a message's sent time on the platform to its commit: a poller's lag",
            ["channel"],
            buckets=DELAY_BUCKETS,
            registry=r,
        )
        self.batch_size = Histogram(
            "kanal_intake_batch_size",
            "Items committed per intake transaction (concurrent deliveries share one)",
            buckets=BATCH_BUCKETS,
            registry=r,
        )
        self.webhook_latency = Histogram(
            "kanal_webhook_duration_seconds",
            "Time to answer a platform's webhook call, by route and channel",
            ["route", "channel"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.webhook_responses = Counter(
            "kanal_webhook_responses",
            "Webhook answers by route, channel and HTTP status (503: the database is away)",
            ["route", "channel", "status"],
            registry=r,
        )
        self.outbox_sent = Counter(
            "kanal_outbox_sent", "Replies this process sent, by channel", ["channel"], registry=r
        )
        self.outbox_failures = Counter(
            "kanal_outbox_failures",
            "Failed send attempts by channel; outcome: retry (tried again later) or failed (final)",
            ["channel", "outcome"],
            registry=r,
        )
        self.poller_up = Gauge(
            "kanal_poller_up",
            "1 while a poller this process runs works, 0 from its first failure to its recovery",
            ["channel", "account"],
            registry=r,
        )
        self.poller_cursor = Gauge(
            "kanal_poller_cursor_timestamp_seconds",
            "When this process last committed a poller's cursor (Unix time): it moves with "
            "every poll that found something, and with every email poll",
            ["channel", "account"],
            registry=r,
        )
        self.sweep_duration = Histogram(
            "kanal_sweep_duration_seconds",
            "Duration of the scheduled sweeps this process ran (triage: reminders, closures, "
            "escalations; notifier: digest and alerts)",
            ["sweep"],
            buckets=SWEEP_BUCKETS,
            registry=r,
        )

    def watch_leaders(self, collector: Collector) -> None:
        """The app's leadership gauges; a second app built from the same runtime replaces
        the first's."""
        if self._leaders is not None:
            self.registry.unregister(self._leaders)
        self.registry.register(collector)
        self._leaders = collector

    def received_message(self, channel: str, delay_seconds: float) -> None:
        self.received.labels(channel).inc()
        self.intake_delay.labels(channel).observe(max(delay_seconds, 0.0))

    def cursor_committed(self, channel: str, account: str, at: datetime) -> None:
        self.poller_cursor.labels(channel, account).set(at.timestamp())

    def poller_started(self, channel: str, account: str) -> None:
        """Working until it says otherwise; only the process running a poller shows it."""
        self.poller_up.labels(channel, account).set(1)

    def poller_stopped(self, channel: str, account: str) -> None:
        for gauge in (self.poller_up, self.poller_cursor):
            try:
                gauge.remove(channel, account)
            except KeyError:
                pass

    def sent(self, channel: str) -> None:
        self.outbox_sent.labels(channel).inc()

    def send_failed(self, channel: str, *, final: bool) -> None:
        self.outbox_failures.labels(channel, "failed" if final else "retry").inc()


class HealthSink(Protocol):
    """What channels.base.ChannelHealth asks (spelled here: this module imports nothing ours)."""

    def failing(self, channel: str, account: str, reason: str) -> None: ...

    def working(self, channel: str, account: str) -> None: ...


class PollerHealth:
    """A `channels.base.ChannelHealth` that records each poller's state in the metrics and
    passes every call on to the notifier's recorder, when there is one."""

    def __init__(self, metrics: Metrics, inner: HealthSink | None = None) -> None:
        self.metrics = metrics
        self.inner = inner  # the notifier's recorder

    def failing(self, channel: str, account: str, reason: str) -> None:
        self.metrics.poller_up.labels(channel, account).set(0)
        if self.inner is not None:
            self.inner.failing(channel, account, reason)

    def working(self, channel: str, account: str) -> None:
        self.metrics.poller_up.labels(channel, account).set(1)
        if self.inner is not None:
            self.inner.working(channel, account)
