"""The composition root's wiring: builds intake, actions, outbox, channels and the web app from
the settings, and starts and stops them with the app. main.py is the command line around it."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import aiohttp
from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.exc import DBAPIError

from channels.base import Channel, ChannelHealth, IntakeSink, ListensAndPolls
from channels.registry import channel_spec
from channels.simulated.channel import NAME as SIMULATED
from channels.spec import ChannelContext
from inbox.app import build_app
from inbox.context import InboxServices
from networks import parse_networks
from notifier.service import Notifier
from observability.collectors import DatabaseGauges, Leaders
from observability.context import bound
from observability.http import metrics_handler, observe
from observability.metrics import Metrics, PollerHealth
from settings import Settings
from store.db import Database
from store.jobs import claim_run, period_of
from store.leadership import Leadership
from store.link_secret import link_secret
from store.retention import Keep, prune
from triage.actions import TicketActions, TriageRules
from triage.assess import TicketAssessor
from triage.file_links import FileLinks
from triage.hints import Hinter
from triage.intake import Intake, utc_now
from triage.intake_replies import ReplyRules
from triage.learning import ModelCache, retrain
from triage.outbox import OutboxWorker
from triage.sla import WorkCalendar, opd_answer_term
from triage.sweeps import Sweeps

log = logging.getLogger("kanal.runtime")


def build_channel(
    name: str,
    settings: Settings,
    data_dir: Path,
    http: aiohttp.ClientSession,
    clock: Callable[[], datetime],
    health: ChannelHealth | None = None,
) -> Channel:
    context = ChannelContext(getattr(settings.channels, name), data_dir, http, clock, health)
    return channel_spec(name).build(context)


@dataclass
class Runtime:
    settings: Settings
    base: Path
    db: Database
    clock: Callable[[], datetime]
    intake: Intake
    actions: TicketActions
    outbox: OutboxWorker
    sweeps: Sweeps
    channels: dict[str, Channel] = field(default_factory=dict)
    notifier: Notifier | None = None
    metrics: Metrics = field(default_factory=Metrics)

    @property
    def data_dir(self) -> Path:
        return self.settings.data_path(self.base)

    def channel_names(self) -> list[str]:
        return [name for name, table in self.settings.channels if table.enabled]

    async def web_app(self) -> web.Application:
        """Built inside the running loop, so the shared HTTP session belongs to it."""
        http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
        health = PollerHealth(
            self.metrics, self.notifier.health if self.notifier is not None else None
        )
        for name in self.channel_names():
            self.channels[name] = build_channel(
                name, self.settings, self.data_dir, http, self.clock, health
            )
        routes = [route for channel in self.channels.values() for route in channel.routes()]
        webhook_channels = {
            route.path: name
            for name, channel in self.channels.items()
            for route in channel.routes()
            if isinstance(route, web.RouteDef)
        }
        services = InboxServices(
            db=self.db,
            actions=self.actions,
            tz=self.settings.region.tz,
            categories=list(self.settings.category),
            opds=list(self.settings.opd),
            data_dir=self.data_dir,
            trusted_proxies=parse_networks(self.settings.server.trusted_proxies),
            demo=SIMULATED in self.channels,
            canned=list(self.settings.canned_reply),
            after_window=frozenset(
                name for name, table in self.settings.channels if table.sends_after_window()
            ),
            answer_files=self.settings.triage.answer_file_rules,
            link_secret=link_secret(self.settings.server.secret.get_secret_value(), self.data_dir),
        )

        scheduler = self._scheduler()
        leaders = self._leaders(scheduler)
        services.leaders = leaders

        async def lifecycle(app: web.Application) -> AsyncIterator[None]:
            await self.intake.start()
            for channel in self.channels.values():
                if isinstance(channel, ListensAndPolls):  # listens here, polls when leading
                    await channel.listen(self.intake)
                elif channel.routes():  # webhooks may reach any process: every one listens
                    await channel.start(self.intake)
            await self.outbox.start()
            scheduler.start(paused=True)
            for leader in leaders:
                await leader.start()
            yield
            for leader in leaders:
                await leader.stop()
            scheduler.shutdown(wait=False)
            await self.outbox.stop()
            for channel in self.channels.values():
                if channel.routes() or isinstance(channel, ListensAndPolls):
                    await channel.stop()
            await self.intake.stop()
            if self.notifier is not None:
                await self.notifier.close()
            await http.close()
            self.db.dispose()

        # An OPD's answer may carry its files in one form: room for all of them at their limit.
        rules = services.answer_files
        upload_limit = rules.max_files * rules.max_bytes + 1024 * 1024
        app = build_app(
            services, webhook_routes=routes, contexts=[lifecycle], upload_max_size=upload_limit
        )
        app.middlewares.append(observe(self.metrics, webhook_channels))
        self.metrics.watch_leaders(Leaders(leaders))
        if self.settings.metrics.enabled:
            app.router.add_get("/metrics", metrics_handler(self.metrics, self.settings.metrics))
        return app

    def _leaders(self, scheduler: AsyncIOScheduler) -> list[Leadership]:
        """Pollers and the scheduler run in one process at a time (see store/leadership.py)."""
        url, every = self.db.url, self.settings.server.leader_check.total_seconds()

        async def resume() -> None:
            scheduler.resume()

        async def pause() -> None:
            scheduler.pause()

        leaders = [Leadership(url, "scheduler", resume, pause, retry=every, check=every)]
        for name, channel in self.channels.items():
            if isinstance(channel, ListensAndPolls):
                # Its webhook half runs everywhere (lifecycle); only the poller is a singleton.
                start = self._poller(name, channel.account, channel.start_polling)
                stop = self._stopped(name, channel.account, channel.stop_polling)
            elif not channel.routes():
                start = self._poller(name, channel.account, channel.start)
                stop = self._stopped(name, channel.account, channel.stop)
            else:
                continue
            leaders.append(
                Leadership(
                    url, f"poller:{name}:{channel.account}", start, stop, retry=every, check=every
                )
            )
        return leaders

    def _poller(
        self, name: str, account: str, start: Callable[[IntakeSink], Awaitable[None]]
    ) -> Callable[[], Awaitable[None]]:
        """A poller's start as its leadership calls it, seen by the metrics and the logs."""

        async def started() -> None:
            with bound(channel=name):  # the poller's tasks inherit it for their log lines
                await start(self.intake)
            self.metrics.poller_started(name, account)

        return started

    def _stopped(
        self, name: str, account: str, stop: Callable[[], Awaitable[None]]
    ) -> Callable[[], Awaitable[None]]:
        async def stopped() -> None:
            await stop()
            self.metrics.poller_stopped(name, account)

        return stopped

    def _scheduler(self) -> AsyncIOScheduler:
        scheduler = AsyncIOScheduler(timezone=self.settings.region.tz)

        async def sweep() -> None:
            started = time.perf_counter()
            await asyncio.to_thread(self.sweeps.run)
            self.metrics.sweep_duration.labels("triage").observe(time.perf_counter() - started)

        self._add_claimed_job(
            scheduler, "triage-sweep", self.settings.triage.sweep_every, "sweep", sweep
        )
        self._schedule_learning(scheduler)
        if self.notifier is not None and self.settings.notifier.enabled:
            self._schedule_notifier(scheduler, self.notifier)
        self._schedule_retention(scheduler)
        return scheduler

    def _schedule_learning(self, scheduler: AsyncIOScheduler) -> None:
        """Retrain the suggestions from operators' decisions, once per period in one process;
        every process picks the stored model up (triage/learning.py ModelCache)."""

        async def learn() -> None:
            latest = self.settings.triage.learn_examples
            examples = await asyncio.to_thread(retrain, self.db, self.clock(), latest)
            log.info("suggestions relearned from %d labelled examples", examples)

        self._add_claimed_job(
            scheduler, "triage-learn", self.settings.triage.learn_interval, "relearning", learn
        )

    def _add_claimed_job(
        self,
        scheduler: AsyncIOScheduler,
        job_id: str,
        every: timedelta,
        what: str,
        work: Callable[[], Awaitable[None]],
    ) -> None:
        """Run `work` once per period of `every`, in the one process that claims the period
        (store/jobs.py); a database out of reach skips the period with a log line."""
        interval = every.total_seconds()

        async def run() -> None:
            try:
                period = period_of(self.clock(), interval)
                if await asyncio.to_thread(claim_run, self.db, job_id, period, self.clock()):
                    await work()
            except DBAPIError as exc:
                log.warning("%s skipped, database not reachable: %s", what, exc.orig or exc)
            except asyncio.CancelledError:
                # The process is stopping (the scheduler does not wait for its jobs): not an
                # error to log with a traceback. The next period's run does the work again.
                log.info("%s interrupted: the process is stopping", what)

        scheduler.add_job(
            run,
            "interval",
            seconds=interval,
            id=job_id,
            name=job_id,
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(self.settings.region.tz),
        )

    def _schedule_retention(self, scheduler: AsyncIOScheduler) -> None:
        """Remove what `[retention]` no longer keeps, in small batches (store/retention.py)."""
        kept = self.settings.retention
        keep = Keep(kept.raw_events, kept.notifications, kept.job_runs, kept.escalation_alerts)

        async def clean_up() -> None:
            await asyncio.to_thread(prune, self.db, self.clock(), keep, batch=kept.batch)

        self._add_claimed_job(scheduler, "retention", kept.interval, "clean-up", clean_up)

    def _schedule_notifier(self, scheduler: AsyncIOScheduler, notifier: Notifier) -> None:
        """The digest at its time, and a frequent pass for alerts, retries and a digest missed
        while the process was down (a `digest_runs` row keeps each day's digest to one)."""

        async def notify() -> None:
            try:
                started = time.perf_counter()
                await notifier.tick()
                self.metrics.sweep_duration.labels("notifier").observe(
                    time.perf_counter() - started
                )
            except DBAPIError as exc:
                log.warning("notifier skipped, database not reachable: %s", exc.orig or exc)
            except asyncio.CancelledError:  # as in _add_claimed_job: the process is stopping
                log.info("notifier interrupted: the process is stopping")

        at = self.settings.notifier.digest_time
        common = {"max_instances": 1, "coalesce": True}
        scheduler.add_job(
            notify,
            "cron",
            hour=at.hour,
            minute=at.minute,
            id="notifier-digest",
            name="notifier-digest",
            **common,
        )
        scheduler.add_job(
            notify,
            "interval",
            seconds=self.settings.notifier.sweep_interval.total_seconds(),
            id="notifier",
            name="notifier",
            next_run_time=datetime.now(self.settings.region.tz),
            **common,
        )


def build_runtime(
    settings: Settings, base: Path, db: Database, *, clock: Callable[[], datetime] = utc_now
) -> Runtime:
    data_dir = settings.data_path(base)
    data_dir.mkdir(parents=True, exist_ok=True)
    channels: dict[str, Channel] = {}
    metrics = Metrics()
    metrics.registry.register(DatabaseGauges(db, clock))
    secret = link_secret(settings.server.secret.get_secret_value(), data_dir)
    outbox = OutboxWorker(
        db,
        channels,
        clock,
        metrics=metrics,
        data_dir=data_dir,
        file_link=FileLinks(settings.server.base_url(), secret),
    )
    calendar = WorkCalendar.from_config(settings.triage, settings.region.timezone)
    hinter = Hinter.from_config(
        settings.triage, settings.category, settings.jurisdiction, settings.region.name, base
    )
    assessor = TicketAssessor(db, hinter, clock, models=ModelCache(db, settings.category))
    categories = {c.code: c for c in settings.category}
    # Only a channel that can answer acknowledges (sample reports arrive on disabled ones too).
    acknowledged = frozenset(
        name for name, table in settings.channels if table.enabled and table.acknowledge
    )
    intake = Intake(
        db,
        ticket_prefix=settings.region.ticket_prefix,
        tz=settings.region.tz,
        clock=clock,
        on_new_tickets=assessor.assess,
        verify_due=lambda arrived: calendar.due(arrived, settings.triage.verify_within),
        replies=ReplyRules(
            acknowledge=acknowledged,
            region=settings.region.name,
            opd_names={o.code: o.name for o in settings.opd},
            reopen_within=settings.triage.reopen_within,
            opd_due=lambda at, category: calendar.due(
                at, opd_answer_term(settings.triage, categories.get(category or ""))
            ),
        ),
        on_changed_tickets=assessor.assess,
        on_replies_queued=outbox.wake,
        metrics=metrics,
    )
    rules = TriageRules(
        calendar=calendar,
        triage=settings.triage,
        categories={c.code: c for c in settings.category},
        opds={o.code: o for o in settings.opd},
        region=settings.region.name,
    )
    actions = TicketActions(db, rules, clock, on_reply_queued=outbox.wake)
    sweeps = Sweeps(db, rules, clock, on_reply_queued=outbox.wake)
    notifier = Notifier(
        settings.notifier,
        db,
        clock,
        settings.region.tz,
        region=settings.region.name,
        opds=list(settings.opd),
        categories=list(settings.category),
    )
    return Runtime(
        settings,
        base,
        db,
        clock,
        intake,
        actions,
        outbox,
        sweeps,
        channels,
        notifier=notifier,
        metrics=metrics,
    )
