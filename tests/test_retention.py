"""The clean-up removes only what is kept for a while, in batches, on both databases."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlmodel import func, select

from api_client import report
from store.db import Database
from store.models import JobRun, Message, Notification, RawEvent, Ticket, TicketEvent
from store.retention import Keep, prune
from triage.intake import Intake


def delivery(n: int):
    """A report as the platform sent it, payload included."""
    return replace(report(n), raw={"entry": [{"id": n}]})


def notification(key: str, state: str, at) -> Notification:
    return Notification(
        key=key,
        kind="digest",
        recipient="kadis",
        channel="email",
        address="kadis@example.go.id",
        state=state,
        next_attempt_at=at,
        created_at=at,
    )


async def test_old_payloads_notifications_and_job_runs_go_the_rest_stays(
    db: Database, intake: Intake, clock
) -> None:
    await intake.submit([delivery(n) for n in range(1, 8)])  # seven deliveries, long ago
    old = clock()
    clock.advance(timedelta(days=100))
    await intake.submit([delivery(n) for n in range(20, 23)])  # three recent ones
    now = clock()
    with db.write() as session:
        for n, (state, age) in enumerate(
            [("sent", 200), ("failed", 190), ("pending", 400), ("sent", 10)]
        ):
            session.add(notification(f"n{n}", state, now - timedelta(days=age)))
        session.add(JobRun(job="triage-sweep", period="old", started_at=old))
        session.add(JobRun(job="triage-sweep", period="new", started_at=now))
    with db.read() as session:
        before = {
            table.__name__: session.exec(select(func.count()).select_from(table)).one()
            for table in (Ticket, Message, TicketEvent, RawEvent)
        }

    done = prune(db, now, Keep(), batch=3)

    assert (done.raw_events, done.notifications, done.job_runs) == (7, 2, 1)
    assert len(done.batch_seconds) >= 3 + 1 + 1  # seven payloads in batches of three
    with db.read() as session:
        after = {
            table.__name__: session.exec(select(func.count()).select_from(table)).one()
            for table in (Ticket, Message, TicketEvent, RawEvent)
        }
        payloads = sorted(
            (e.external_id, bool(e.payload)) for e in session.exec(select(RawEvent)).all()
        )
        states = sorted(n.state for n in session.exec(select(Notification)).all())
        periods = [r.period for r in session.exec(select(JobRun)).all()]
    assert after == before  # tickets, messages, the audit trail and the raw rows stay
    assert [kept for _, kept in payloads].count(True) == 3
    assert states == ["pending", "sent"]
    assert periods == ["new"]
    # A second pass finds nothing more, and starts where the first stopped.
    again = prune(db, now, Keep(), batch=3)
    assert (again.raw_events, again.notifications, again.job_runs) == (0, 0, 0)


async def test_a_repeated_delivery_after_the_clean_up_is_still_stored_once(
    db: Database, intake: Intake, clock
) -> None:
    await intake.submit([delivery(1)])
    clock.advance(timedelta(days=91))
    prune(db, clock(), Keep())
    await intake.submit([delivery(1)])  # the platform delivers the same message again
    with db.read() as session:
        assert session.exec(select(func.count()).select_from(Message)).one() == 1
        assert session.exec(select(RawEvent)).one().payload == {}
