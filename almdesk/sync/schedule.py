"""The sync schedule: which connections are due, from each one's frequency and last sync job.

``hourly``/``daily``/``weekly`` add 1 h / 1 day / 7 days to the start of the connection's last
``sync`` job (automatic or not; dry runs do not count); ``monthly`` adds a calendar month (31 Jan →
28/29 Feb); ``manually`` is never due. A connection that never synced is due at once. Runs missed
while the app was closed run once, not once per missed period: only the last job counts. A sync
still marked running is not due again unless it started over a day ago (a crashed app).
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from almdesk.models import Connection, Job, Store
from almdesk.sync.plan import aware

FREQUENCIES = ("hourly", "daily", "weekly", "monthly")
_STEP = {"hourly": timedelta(hours=1), "daily": timedelta(days=1), "weekly": timedelta(days=7)}
STALE_RUNNING = timedelta(days=1)


def add_period(start: datetime, frequency: str) -> datetime | None:
    """``start`` plus one period of ``frequency`` (None for manually/unknown)."""
    if frequency in _STEP:
        return start + _STEP[frequency]
    if frequency == "monthly":
        year, month = (start.year + 1, 1) if start.month == 12 else (start.year, start.month + 1)
        day = min(start.day, calendar.monthrange(year, month)[1])
        return start.replace(year=year, month=month, day=day)
    return None


def _last_syncs(store: Store) -> dict[int, tuple[datetime | None, bool]]:
    """connection id → (start of its newest sync job, still in progress)."""
    with store.session() as s:
        newest = (select(Job.connection_id, func.max(Job.id).label("job_id"))
                  .where(Job.kind == "sync", Job.connection_id.is_not(None))
                  .group_by(Job.connection_id).subquery())
        rows = s.execute(select(Job.connection_id, Job.started, Job.last_run, Job.in_progress)
                         .join(newest, Job.id == newest.c.job_id)).all()
        return {int(cid): (aware(started or last_run), bool(running))
                for cid, started, last_run, running in rows if cid is not None}


def next_due(store: Store, connection_id: int, now: datetime | None = None) -> datetime | None:
    """When the connection's next scheduled sync is due (None: manually); ``now`` if overdue."""
    now = now or datetime.now(UTC)
    with store.session() as s:
        row = s.get(Connection, connection_id)
        frequency = row.frequency if row else "manually"
    if frequency not in FREQUENCIES:
        return None
    started, running = _last_syncs(store).get(connection_id, (None, False))
    return _due_at(frequency, started, running, now)


def _due_at(frequency: str, started: datetime | None, running: bool, now: datetime) -> datetime | None:
    if started is None:
        return now
    if running and now - started < STALE_RUNNING:
        return add_period(now, frequency)  # not while it runs
    return add_period(started, frequency)


def due_connections(store: Store, now: datetime | None = None) -> list[int]:
    """Ids of connections whose scheduled sync is due at ``now`` (timezone-aware; default: now)."""
    now = aware(now) or datetime.now(UTC)
    with store.session() as s:
        conns = s.execute(select(Connection.id, Connection.frequency)
                          .where(Connection.frequency.in_(FREQUENCIES)).order_by(Connection.id)).all()
    last = _last_syncs(store)
    due = []
    for cid, frequency in conns:
        started, running = last.get(cid, (None, False))
        when = _due_at(frequency, started, running, now)
        if when is not None and when <= now:
            due.append(int(cid))
    return due


def upcoming(store: Store, now: datetime | None = None, limit: int = 3) -> list[tuple[datetime, str]]:
    """The ``limit`` soonest scheduled syncs as (due time, connection alias), soonest first; an overdue
    one is due ``now``. Two queries whatever the number of connections (the tray reads it every minute)."""
    now = aware(now) or datetime.now(UTC)
    with store.session() as s:
        conns = s.execute(select(Connection.id, Connection.alias, Connection.frequency)
                          .where(Connection.frequency.in_(FREQUENCIES))).all()
    last = _last_syncs(store)
    times = []
    for cid, alias, frequency in conns:
        started, running = last.get(cid, (None, False))
        when = _due_at(frequency, started, running, now)
        if when is not None:
            times.append((max(when, now), str(alias)))
    return sorted(times)[:limit]
