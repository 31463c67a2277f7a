"""The scheduled clean-up: what the service keeps only for a while, removed in small batches.

Each batch is its own short write transaction (a few hundred rows, found through an index), so
the intake's writer never waits long for SQLite's one write lock or PostgreSQL's row locks.
Tickets, messages and the audit trail are never touched here.

- raw events: the payload of a delivery stored without error is emptied after `raw_events`;
  the row stays, as the key that keeps a repeated delivery from being stored twice. Progress
  is kept in `retention_marks`, so a pass starts where the last one stopped.
- notifications (digests and alerts to staff), sent or given up, after `notifications`.
- job runs (the once-per-period claims of scheduled jobs), after `job_runs`.
- escalation alerts (which escalate events the notifier dealt with), after
  `escalation_alerts`, and only at or below the notifier's mark ("escalations",
  notifier/escalations.py): a pass never reads those events again, so a deleted row cannot
  make an event look new. Kept longer than any quiet period, which reads recent rows.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, delete, func, select, tuple_, update

from store.db import Database
from store.models import EscalationAlert, JobRun, Notification, RawEvent, RetentionMark

RAW_EVENTS = "raw_events"
ESCALATIONS = "escalations"  # the notifier's mark: escalate events up to it are dealt with
_RAW = RawEvent.__table__  # type: ignore[attr-defined]
_NOTIFICATIONS = Notification.__table__  # type: ignore[attr-defined]
_JOB_RUNS = JobRun.__table__  # type: ignore[attr-defined]
_ALERTS = EscalationAlert.__table__  # type: ignore[attr-defined]
_MARKS = RetentionMark.__table__  # type: ignore[attr-defined]
_FINISHED = ("sent", "failed")


@dataclass(frozen=True, slots=True)
class Keep:
    raw_events: timedelta = timedelta(days=90)
    notifications: timedelta = timedelta(days=180)
    job_runs: timedelta = timedelta(days=30)
    escalation_alerts: timedelta = timedelta(days=180)


@dataclass(slots=True)
class Pruned:
    raw_events: int = 0
    notifications: int = 0
    job_runs: int = 0
    escalation_alerts: int = 0
    batch_seconds: list[float] = field(default_factory=list)  # each transaction's length


Step = Callable[[], tuple[int, bool]]  # (rows done, more to do)


def prune(db: Database, now: datetime, keep: Keep, *, batch: int = 500) -> Pruned:
    """One pass over everything due, batch by batch."""
    done = Pruned()
    done.raw_events = _run(done, lambda: _empty_raw_events(db, now - keep.raw_events, batch))
    done.notifications = _run(
        done, lambda: _delete_notifications(db, now - keep.notifications, batch)
    )
    done.job_runs = _run(done, lambda: _delete_job_runs(db, now - keep.job_runs, batch))
    done.escalation_alerts = _run(
        done, lambda: _delete_escalation_alerts(db, now - keep.escalation_alerts, batch)
    )
    return done


def _run(done: Pruned, step: Step) -> int:
    total, more = 0, True
    while more:
        started = time.perf_counter()
        count, more = step()
        spent = time.perf_counter() - started
        done.batch_seconds.append(spent)
        total += count
        if more:
            # SQLite hands its write lock to whoever asks first, not to who waited longest:
            # leave the intake's writer at least as long as the batch took.
            time.sleep(max(0.01, spent))
    return total


def _empty_raw_events(db: Database, cutoff: datetime, batch: int) -> tuple[int, bool]:
    with db.write() as session:
        conn = session.connection()
        mark = session.get(RetentionMark, RAW_EVENTS) or RetentionMark(name=RAW_EVENTS)
        bound = conn.execute(select(func.max(_RAW.c.id)).where(_RAW.c.received_at < cutoff))
        last = bound.scalar()
        if last is None or last <= mark.last_id:
            return 0, False
        upto = min(mark.last_id + batch, last)
        emptied = conn.execute(
            update(_RAW)
            .where(
                _RAW.c.id > mark.last_id,
                _RAW.c.id <= upto,
                _RAW.c.error.is_(None),
                _RAW.c.received_at < cutoff,
            )
            .values(payload={})
        ).rowcount
        mark.last_id = upto
        session.add(mark)
    return emptied, upto < last


def _delete_notifications(db: Database, cutoff: datetime, batch: int) -> tuple[int, bool]:
    due = (
        select(_NOTIFICATIONS.c.id)
        .where(_NOTIFICATIONS.c.created_at < cutoff, _NOTIFICATIONS.c.state.in_(_FINISHED))
        .order_by(_NOTIFICATIONS.c.created_at)
        .limit(batch)
    )
    return _delete_due(db, due, _NOTIFICATIONS, _NOTIFICATIONS.c.id, batch)


def _delete_job_runs(db: Database, cutoff: datetime, batch: int) -> tuple[int, bool]:
    due = (
        select(_JOB_RUNS.c.job, _JOB_RUNS.c.period)
        .where(_JOB_RUNS.c.started_at < cutoff)
        .order_by(_JOB_RUNS.c.started_at)
        .limit(batch)
    )
    pair = tuple_(_JOB_RUNS.c.job, _JOB_RUNS.c.period)
    return _delete_due(db, due, _JOB_RUNS, pair, batch)


def _delete_escalation_alerts(db: Database, cutoff: datetime, batch: int) -> tuple[int, bool]:
    mark = select(_MARKS.c.last_id).where(_MARKS.c.name == ESCALATIONS).scalar_subquery()
    # By event id (the primary key): the oldest rows first, the same order they were written.
    due = (
        select(_ALERTS.c.event_id)
        .where(_ALERTS.c.event_id <= mark, _ALERTS.c.alerted_at < cutoff)
        .order_by(_ALERTS.c.event_id)
        .limit(batch)
    )
    return _delete_due(db, due, _ALERTS, _ALERTS.c.event_id, batch)


def _delete_due(db: Database, due: Any, table: Table, key: Any, batch: int) -> tuple[int, bool]:
    """Delete the rows `due` selects (their `key`, one column or a tuple_ of columns) in one
    short write; (how many, whether a full batch suggests more)."""
    with db.write() as session:
        conn = session.connection()
        keys = [row[0] if len(row) == 1 else tuple(row) for row in conn.execute(due)]
        if keys:
            conn.execute(delete(table).where(key.in_(keys)))
    return len(keys), len(keys) == batch
