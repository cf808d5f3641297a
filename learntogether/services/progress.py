"""A learner's own progress: lessons and tracks done, scores, and how many days in a row."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.db.base import utcnow
from learntogether.db.models import Activity, Certificate, LessonProgress, ProgressStatus, User
from learntogether.services.catalogue import catalogue
from learntogether.services.learners import zone_of


@dataclass(frozen=True)
class TrackProgress:
    title: str
    done: int
    total: int


@dataclass(frozen=True)
class ProgressSummary:
    lessons_done: int
    lessons_started: int
    tracks_done: int
    tracks: list[TrackProgress]
    average_score: int | None
    streak_days: int
    certificates: int


def streak(days: set[date], today: date) -> int:
    """Days in a row with some learning, ending today (or yesterday: today is not over yet)."""
    day = today if today in days else today - timedelta(days=1)
    count = 0
    while day in days:
        count += 1
        day -= timedelta(days=1)
    return count


async def summary(
    session: AsyncSession, *, learner: User, chain: Sequence[str], now: datetime | None = None
) -> ProgressSummary:
    """Everything /progress shows, in the learner's time zone for the streak."""
    tracks = await catalogue(session, learner=learner, chain=chain)
    progress = list(
        await session.scalars(select(LessonProgress).where(LessonProgress.user_id == learner.id))
    )
    scores = [row.best_score for row in progress if row.best_score is not None]
    zone = zone_of(learner.timezone, learner.country)
    moments = await session.scalars(
        select(Activity.occurred_at).where(Activity.user_id == learner.id)
    )
    days = {moment.astimezone(zone).date() for moment in moments}
    certificates = await session.scalar(
        select(func.count()).select_from(Certificate).where(Certificate.user_id == learner.id)
    )
    return ProgressSummary(
        lessons_done=sum(row.status is ProgressStatus.COMPLETED for row in progress),
        lessons_started=len(progress),
        tracks_done=sum(
            1 for track in tracks if track.lessons and track.done == len(track.lessons)
        ),
        tracks=[
            TrackProgress(track.title, track.done, len(track.lessons))
            for track in tracks
            if track.for_role or track.done
        ],
        average_score=round(sum(scores) / len(scores)) if scores else None,
        streak_days=streak(days, (now or utcnow()).astimezone(zone).date()),
        certificates=certificates or 0,
    )
