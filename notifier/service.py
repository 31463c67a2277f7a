"""The notifier: makes the daily digest once a day, turns escalations and channel health changes
into alerts, and sends what is due. The runtime calls `tick()` from its scheduler."""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy.exc import IntegrityError

from notifier import escalations
from notifier.chart import bar_chart_png
from notifier.config import NotifierConfig, RecipientConfig
from notifier.deliveries import Deliverer, Draft, add
from notifier.digest import Digest, build_digest, default_day
from notifier.health import HealthChange, HealthRecorder, apply_change
from notifier.render import render
from notifier.senders import CHART_CID, EmailSender, Sender, TelegramSender
from store.db import Database
from store.models import DigestRun
from triage.config import CategoryConfig, OpdConfig

log = logging.getLogger(__name__)
OPERATORS = ":operators"  # the digest's overdue group of the verify clock; no OPD code has ":"


def default_senders(config: NotifierConfig) -> dict[str, Sender]:
    return {"email": EmailSender(config.smtp), "telegram": TelegramSender(config.telegram)}


class Notifier:
    def __init__(
        self,
        config: NotifierConfig,
        db: Database,
        clock: Callable[[], datetime],
        tz: tzinfo,
        *,
        region: str,
        opds: list[OpdConfig] | None = None,
        categories: list[CategoryConfig] | None = None,
        senders: Mapping[str, Sender] | None = None,
    ) -> None:
        self.config = config
        self.db = db
        self.clock = clock
        self.tz = tz
        self.region = region
        self.opds = {o.code: o for o in opds or []}
        self.categories = {c.code: c.name for c in categories or []}
        self.senders = dict(senders) if senders is not None else default_senders(config)
        self.health = HealthRecorder(clock)
        self.deliverer = Deliverer(db, self.senders, clock, max_attempts=config.max_attempts)
        self._tick_lock = asyncio.Lock()

    async def tick(self) -> None:
        """One pass: the digest if due, escalation and health alerts, then every due send."""
        async with self._tick_lock:  # the cron job and the interval job may meet
            await asyncio.to_thread(self.digest_if_due)
            await asyncio.to_thread(self.sweep_escalations)
            await asyncio.to_thread(self.sweep_health)
            await self.deliverer.send_due()

    async def close(self) -> None:
        for sender in self.senders.values():
            await sender.close()

    # --- digest -------------------------------------------------------------------------------

    def digest_if_due(self) -> bool:
        """Make today's digest (about yesterday) once the digest time has passed."""
        now = self.clock()
        if now.astimezone(self.tz).time() < self.config.digest_time:
            return False
        day = default_day(now, self.tz)
        with self.db.read() as session:  # cheap check first: this runs every sweep
            if session.get(DigestRun, day.isoformat()) is not None:
                return False
        return self.make_digest(day) > 0

    def build(self, day: date) -> Digest:
        return build_digest(self.db, day, self.tz, self.clock())

    def make_digest(self, day: date) -> int:
        """Write the digest of `day` for every digest recipient, unless it was made before
        (by this or another process: the `digest_runs` row decides); how many were queued."""
        now = self.clock()
        digest = self.build(day)
        drafts = [
            draft
            for recipient in self.config.recipients_for("digest")
            for draft in self._digest_drafts(digest, recipient)
        ]
        try:
            with self.db.write() as session:
                if session.get(DigestRun, day.isoformat()) is not None:
                    return 0
                session.add(DigestRun(day=day.isoformat(), created_at=now))
                session.flush()  # another process inserting the same day fails here
                for draft in drafts:
                    add(session, draft, now)
        except IntegrityError:
            log.info("digest of %s already made by another process", day)
            return 0
        log.info("digest of %s queued for %d delivery(ies)", day, len(drafts))
        return len(drafts)

    def digest_content(
        self, digest: Digest, locale: str, *, inline_chart: bool = False
    ) -> tuple[str, dict[str, Any]]:
        """(subject, payload) of the digest in `locale`: text, html, telegram, chart_png.

        The mail's HTML shows the chart as its related part (`cid:`); with `inline_chart` (the
        command line's preview, opened in a browser) the HTML carries the PNG as a data: URI."""
        values = self._digest_values(digest)
        chart = base64.b64encode(
            bar_chart_png(digest.daily_received, highlight=digest.day.day - 1)
        ).decode()
        chart_src = f"data:image/png;base64,{chart}" if inline_chart else f"cid:{CHART_CID}"
        text = render("digest.txt.j2", locale, self.tz, **values)
        html = render("digest.html.j2", locale, self.tz, chart_src=chart_src, **values)
        telegram = render("digest.tg.j2", locale, self.tz, **values)
        payload = {
            "text": text.body,
            "html": html.body,
            "telegram": telegram.body,
            "chart_png": chart,
        }
        return text.subject, payload

    def _digest_values(self, digest: Digest) -> dict[str, Any]:
        per_opd: dict[str, list[Any]] = {}
        for ticket in digest.overdue:
            # The verify clock is the operators' own: listed for them, whatever the OPD.
            group = OPERATORS if ticket.kind == "verify" else (ticket.opd or "")
            per_opd.setdefault(group, []).append(ticket)
        return {
            "d": digest,
            "region": self.region,
            "opd_names": {code: opd.name for code, opd in self.opds.items()},
            "category_names": self.categories,
            "overdue_by_opd": sorted(per_opd.items(), key=lambda g: (g[0] != OPERATORS, g[0])),
            "OPERATORS": OPERATORS,
        }

    def _digest_drafts(self, digest: Digest, recipient: RecipientConfig) -> list[Draft]:
        subject, payload = self.digest_content(digest, recipient.locale or self.config.locale)
        return [
            Draft(
                key=f"digest:{digest.day.isoformat()}:{recipient.name}:{channel}",
                kind="digest",
                recipient=recipient.name,
                channel=channel,
                address=recipient.address(channel) or "",
                subject=subject,
                payload=_for_channel(payload, channel),
            )
            for channel in recipient.channels
        ]

    # --- escalations --------------------------------------------------------------------------

    def sweep_escalations(self) -> int:
        """Alert new escalations, batched; how many batches were alerted."""
        now = self.clock()
        with self.db.read() as session:
            found = escalations.pending(session)
        if not found.newest:
            return 0
        done = 0
        try:
            with self.db.write() as session:
                quiet = self.config.quiet_period
                batches = escalations.plan(session, found.events, now, quiet)
                for batch in batches:
                    escalations.record(session, batch, now)
                    if batch.alerted:
                        for draft in self._escalation_drafts(batch, now):
                            add(session, draft, now)
                        done += 1
                escalations.settle(session, found, batches)
        except IntegrityError:
            log.info("escalations already alerted by another process")
            return 0
        return done

    def _escalation_drafts(self, batch: escalations.Batch, now: datetime) -> list[Draft]:
        opd = self.opds.get(batch.opd)
        tickets = [
            {"number": e.number, "due_at": e.due_at, "hours_late": _hours(now - e.due_at)}
            for e in batch.alerted
        ]
        people: list[tuple[str, str, str, str]] = []  # name, channel, address, locale
        if batch.kind == "opd_overdue" and opd is not None:
            for channel, address in (("email", opd.email), ("telegram", opd.telegram_chat_id)):
                if address and channel in self.senders:
                    people.append((f"opd:{opd.code}", channel, address, self.config.locale))
        for r in self.config.recipients_for("escalation"):
            locale = r.locale or self.config.locale
            people += [(r.name, c, r.address(c) or "", locale) for c in r.channels]
        values = {
            "kind": batch.kind,
            "opd_name": opd.name if opd else (batch.opd or "-"),
            "tickets": tickets,
        }
        return [
            self._alert_draft(
                f"{batch.key}:{name}:{channel}",
                batch.kind,
                name,
                channel,
                address,
                "escalation",
                locale,
                values,
            )
            for name, channel, address, locale in people
        ]

    # --- channel health -----------------------------------------------------------------------

    def sweep_health(self) -> int:
        """Store the channels' health changes; alert admins of each stop and recovery."""
        changes = self.health.take_changes()
        if not changes:
            return 0
        now = self.clock()
        alerts = 0
        try:
            with self.db.write() as session:
                for change in changes:
                    state = apply_change(session, change, now)
                    if state is None:
                        continue
                    alerts += 1
                    for draft in self._health_drafts(change):
                        add(session, draft, now)
        except Exception:
            self.health.give_back(changes)
            raise
        return alerts

    def _health_drafts(self, change: HealthChange) -> list[Draft]:
        values = {
            "channel": change.channel,
            "account": change.account,
            "state": change.state,
            "reason": change.reason,
            "since": change.since,
        }
        key = f"health:{change.channel}:{change.account}:{change.state}:{change.since.isoformat()}"
        return [
            self._alert_draft(
                f"{key}:{r.name}:{c}",
                f"channel_{change.state}",
                r.name,
                c,
                r.address(c) or "",
                "health",
                r.locale or self.config.locale,
                values,
            )
            for r in self.config.recipients_for("health")
            for c in r.channels
        ]

    def _alert_draft(
        self,
        key: str,
        kind: str,
        recipient: str,
        channel: str,
        address: str,
        template: str,
        locale: str,
        values: dict[str, Any],
    ) -> Draft:
        if channel == "telegram":
            rendered = render(f"{template}.tg.j2", locale, self.tz, **values)
            subject = render(f"{template}.txt.j2", locale, self.tz, **values).subject
            payload = {"telegram": rendered.body}
        else:
            rendered = render(f"{template}.txt.j2", locale, self.tz, **values)
            subject, payload = rendered.subject, {"text": rendered.body}
        return Draft(key, kind, recipient, channel, address, subject, payload)


def _for_channel(payload: dict[str, Any], channel: str) -> dict[str, Any]:
    """Keep only what the channel sends (the stored row stays small)."""
    if channel == "telegram":
        return {"telegram": payload["telegram"]}
    return {k: payload[k] for k in ("text", "html", "chart_png")}


def _hours(span: timedelta) -> float:
    return round(span.total_seconds() / 3600, 1)
