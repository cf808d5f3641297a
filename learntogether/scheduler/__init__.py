"""The APScheduler 3.11 scheduler that runs the system's own jobs (reminders, nudges, sweeps)."""

from __future__ import annotations

from datetime import UTC

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from learntogether.config import Settings

# A job that missed its time while the process was down still runs if it is at most this late.
MISFIRE_GRACE_SECONDS = 15 * 60


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
