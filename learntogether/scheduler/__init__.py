"""The APScheduler 3.11 scheduler that runs the system's own jobs: reminders, nudges, reviews.

Every process that runs the scheduler part builds one, but only the leader (see ``learntogether.leadership``)
runs its jobs; the others wait, paused, to take over if the leader dies. Jobs open their own
session, call one service and commit: they only create outbox rows, which ``delivery`` sends.
Nothing about the jobs is stored, so nothing can go stale: a restarted scheduler starts the same
jobs, and each sweep catches up from the database (``last_run_at``, deliveries already queued).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from learntogether.config import Settings
from learntogether.db.base import utcnow
from learntogether.leadership import CHECK_SECONDS, Leadership, leadership_for
from learntogether.services import reminders, review

log = logging.getLogger(__name__)

# A job that missed its time while the process was down still runs if it is at most this late.
MISFIRE_GRACE_SECONDS = 15 * 60
NUDGE_INTERVAL = timedelta(hours=1)


def create_scheduler(settings: Settings) -> AsyncIOScheduler:
    """One scheduler per process; runs coalesce so a late job runs once, not once per missed time."""
    return AsyncIOScheduler(
        timezone=UTC,
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": MISFIRE_GRACE_SECONDS,
        },
    )


class Jobs:
    """The sweeps, each in its own transaction."""

    def __init__(self, session_maker: async_sessionmaker[AsyncSession]) -> None:
        self.session_maker = session_maker
        self.last_daily_sweep: datetime | None = None
        # One sweep at a time; stopping waits for the one under way instead of cutting it off.
        self.busy = asyncio.Lock()
        self.stopped = False

    async def cohort_reminders(self) -> None:
        async with self.busy:
            if self.stopped:
                return
            async with self.session_maker() as session:
                queued = await reminders.send_cohort_reminders(session)
                await session.commit()
        if queued:
            log.info("queued %d cohort reminder(s)", queued)

    async def daily_reminders(self) -> None:
        async with self.busy:
            if self.stopped:
                return
            now = utcnow()
            since = self.last_daily_sweep or now - reminders.LATE_GRACE
            async with self.session_maker() as session:
                queued = await reminders.send_daily_reminders(session, since=since, now=now)
                await session.commit()
            self.last_daily_sweep = now
        if queued:
            log.info("queued %d daily reminder(s)", queued)

    async def nudges(self) -> None:
        async with self.busy:
            if self.stopped:
                return
            async with self.session_maker() as session:
                result = await reminders.send_nudges(session)
                await session.commit()
        if result.nudged:
            log.info("queued %d nudge(s)", result.nudged)

    async def reviews(self) -> None:
        async with self.busy:
            if self.stopped:
                return
            async with self.session_maker() as session:
                invited = await review.send_due_reviews(session)
                await session.commit()
        if invited:
            log.info("queued %d review invitation(s)", invited)

    async def stop(self) -> None:
        """Let the sweep under way finish; none starts after."""
        async with self.busy:
            self.stopped = True


class SchedulerRunner:
    """Runs the jobs while this process leads, and waits, paused, while another one does."""

    def __init__(
        self,
        settings: Settings,
        *,
        engine: AsyncEngine,
        session_maker: async_sessionmaker[AsyncSession],
        leadership: Leadership | None = None,
        tick_seconds: float | None = None,
    ) -> None:
        self.scheduler = create_scheduler(settings)
        self.leadership = leadership or leadership_for(engine)
        self.tick = tick_seconds or settings.scheduler_tick_seconds
        self.jobs = Jobs(session_maker)
        self.leading = False
        self._stop = asyncio.Event()
        for job, every in (
            (self.jobs.cohort_reminders, timedelta(seconds=self.tick)),
            (self.jobs.daily_reminders, timedelta(seconds=self.tick)),
            (self.jobs.nudges, max(NUDGE_INTERVAL, timedelta(seconds=self.tick))),
            (self.jobs.reviews, timedelta(seconds=self.tick)),
        ):
            self.scheduler.add_job(
                job, "interval", seconds=every.total_seconds(), id=job.__name__, next_run_time=None
            )

    async def run(self) -> None:
        """Hold or seek the lead every few seconds until ``stop()``."""
        self.scheduler.start(paused=True)
        try:
            while not self._stop.is_set():
                leading = await self.leadership.hold()
                if leading and not self.leading:
                    log.info("this process now runs the scheduled jobs")
                    for job in self.scheduler.get_jobs():
                        job.modify(next_run_time=datetime.now(UTC))
                    self.scheduler.resume()
                elif self.leading and not leading:
                    log.warning("lost the scheduler lead; jobs paused")
                    self.scheduler.pause()
                self.leading = leading
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), timeout=min(self.tick, CHECK_SECONDS))
        finally:
            await self.jobs.stop()
            self.scheduler.shutdown(wait=False)
            await self.leadership.release()

    def stop(self) -> None:
        self._stop.set()
