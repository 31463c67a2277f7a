"""Scheduled jobs run once per period, however many processes fire them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError

from store.db import Database
from store.models import JobRun


def claim_run(db: Database, job: str, period: str, now: datetime) -> bool:
    """Record that `job` runs for `period`; False when some process already did."""
    try:
        with db.write() as session:
            if session.get(JobRun, (job, period)) is not None:
                return False
            session.add(JobRun(job=job, period=period, started_at=now))
        return True
    except IntegrityError:
        return False  # another process claimed it between our read and our insert


def period_of(now: datetime, seconds: float) -> str:
    """The period `now` falls in, for a job that runs every `seconds` (epoch-aligned)."""
    start = int(now.timestamp() // seconds * seconds)
    return datetime.fromtimestamp(start, now.tzinfo).isoformat()
