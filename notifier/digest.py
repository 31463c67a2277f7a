"""The daily digest's content: the figures of a day and its month so far, from store.stats."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from store import stats
from store.db import Database


@dataclass(frozen=True)
class Digest:
    day: date
    as_of: datetime
    tz: tzinfo
    day_figures: dict[str, Any]  # a store.stats PERIOD
    month_figures: dict[str, Any]
    overdue: list[stats.OverdueTicket] = field(default_factory=list)
    closing_today: list[tuple[str, datetime]] = field(default_factory=list)
    daily_received: list[int] = field(default_factory=list)  # day 1 .. `day` of the month

    def as_json(self) -> dict[str, Any]:
        """{"date", "day", "month_to_date"}: what `main.py digest --format json` prints."""
        return {
            "date": self.day.isoformat(),
            "day": self.day_figures,
            "month_to_date": self.month_figures,
        }

    @property
    def is_yesterday(self) -> bool:
        """The usual digest, sent the morning after; else (the CLI) the day is named."""
        return self.day == default_day(self.as_of, self.tz)

    @property
    def stages(self) -> dict[str, dict[str, int]]:
        return {
            "day": stats.stage_counts(self.day_figures["by_status"]),
            "month": stats.stage_counts(self.month_figures["by_status"]),
        }


def default_day(now: datetime, tz: tzinfo) -> date:
    """The digest sent on a morning is about the day before."""
    return now.astimezone(tz).date() - timedelta(days=1)


def build_digest(db: Database, day: date, tz: tzinfo, as_of: datetime) -> Digest:
    """Read every figure of the digest of `day`, in the state of the tickets at `as_of`."""
    day_start, day_end = stats.day_range(day, tz)
    month_start, month_end = stats.month_to_date_range(day, tz)
    today_end = stats.day_range(as_of.astimezone(tz).date(), tz)[1]
    with db.read() as session:
        month_rows = stats.ticket_rows(session, month_start, month_end)
        overdue = stats.overdue_tickets(session, as_of)
        closing = stats.closing_on(session, as_of, today_end)
    day_rows = [r for r in month_rows if day_start <= r.created_at < day_end]
    daily = [0] * day.day
    for row in month_rows:
        daily[row.created_at.astimezone(tz).day - 1] += 1
    return Digest(
        day=day,
        as_of=as_of,
        tz=tz,
        day_figures=stats.period_figures(day_rows, as_of),
        month_figures=stats.period_figures(month_rows, as_of),
        overdue=overdue,
        closing_today=closing,
        daily_received=daily,
    )
