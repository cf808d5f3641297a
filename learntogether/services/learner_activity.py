"""What one learner has done: their recent activity, where they are in each lesson, their quizzes.

A learner's page in the console (admins: everyone; mediators: the members of their cohorts) and
``GET /api/v1/users/{id}/activity`` read it here, with the scope rules of ``users.get_learner``:
a viewer is refused, a learner beyond a mediator's cohorts is not found. An erased learner has
no activity to show: their record stays for the reports, but it no longer describes a person.

Lesson titles come from the lesson version the learner read, in the reader's language (then
English), as reflections show them. Every list is bounded: the activity a page at a time
(newest first, from the ``(user_id, occurred_at)`` index), lessons and quizzes the newest few.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.db.activity_log import step_of
from learntogether.db.models import (
    Activity,
    Lesson,
    LessonProgress,
    ProgressStatus,
    QuizAttempt,
    UserStatus,
    Verb,
)
from learntogether.i18n import SOURCE_LOCALE
from learntogether.services import users
from learntogether.services.actors import Actor
from learntogether.services.reflections import version_titles

LESSONS_SHOWN = 100
"""Lessons listed at most, the most recently touched first (a track has a dozen)."""
QUIZZES_SHOWN = 20
"""Finished quiz attempts listed at most, newest first."""


@dataclass(frozen=True)
class ActivityEntry:
    """One thing the learner did or received."""

    verb: Verb
    occurred_at: datetime
    lesson: str | None
    """The lesson's slug, when the activity was in one."""
    lesson_title: str | None
    step: int | None
    """The step moved to (``step`` records)."""
    score: float | None
    assisted: bool
    """Recorded by a mediator on the learner's behalf."""


@dataclass(frozen=True)
class LessonState:
    """Where the learner is in one lesson."""

    lesson: str
    lesson_title: str
    status: ProgressStatus
    step: int
    """The step the learner is on (0 the first)."""
    started_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    best_score: float | None
    passed: bool | None


@dataclass(frozen=True)
class QuizResult:
    """One finished quiz attempt."""

    lesson: str
    lesson_title: str
    finished_at: datetime
    score: float | None
    max_score: float | None
    passed: bool | None
    assisted: bool


@dataclass(frozen=True)
class LearnerActivity:
    activities: list[ActivityEntry]
    """One page of the activity, newest first."""
    total: int
    """How many activities the learner has in all."""
    lessons: list[LessonState]
    quizzes: list[QuizResult]


async def learner_activity(
    session: AsyncSession,
    *,
    actor: Actor,
    user_id: int,
    locale: str = SOURCE_LOCALE,
    limit: int,
    offset: int = 0,
) -> LearnerActivity:
    """One page of a learner's activity (newest first) with their lessons and quiz results.

    Viewers: NotAllowed; a learner the actor may not see: LearnerNotFound.
    """
    learner = await users.get_learner(session, actor=actor, user_id=user_id)
    if learner.status is UserStatus.ERASED:
        return LearnerActivity([], 0, [], [])
    total = await session.scalar(
        select(func.count()).select_from(Activity).where(Activity.user_id == user_id)
    )
    activities = (
        await session.execute(
            select(Activity, Lesson.slug)
            .outerjoin(Lesson, Lesson.id == Activity.lesson_id)
            .where(Activity.user_id == user_id)
            .order_by(Activity.occurred_at.desc(), Activity.id.desc())
            .limit(limit)
            .offset(offset)
        )
    ).all()
    progress = (
        await session.execute(
            select(LessonProgress, Lesson.slug)
            .join(Lesson, Lesson.id == LessonProgress.lesson_id)
            .where(LessonProgress.user_id == user_id)
            .order_by(LessonProgress.updated_at.desc(), LessonProgress.id.desc())
            .limit(LESSONS_SHOWN)
        )
    ).all()
    attempts = list(
        await session.scalars(
            select(QuizAttempt)
            .where(QuizAttempt.user_id == user_id, QuizAttempt.finished_at.is_not(None))
            .order_by(QuizAttempt.finished_at.desc(), QuizAttempt.id.desc())
            .limit(QUIZZES_SHOWN)
        )
    )
    versions = {
        *(row.lesson_version_id for row, _ in activities if row.lesson_version_id is not None),
        *(row.lesson_version_id for row, _ in progress),
        *(attempt.lesson_version_id for attempt in attempts),
    }
    titles = await version_titles(session, versions, locale)

    def title(version_id: int | None, slug: str | None) -> str | None:
        known = titles.get(version_id) if version_id is not None else None
        return known[1] if known is not None else slug

    return LearnerActivity(
        activities=[
            ActivityEntry(
                verb=row.verb,
                occurred_at=row.occurred_at,
                lesson=slug,
                lesson_title=title(row.lesson_version_id, slug),
                step=step_of(row),
                score=row.score,
                assisted=row.assisted,
            )
            for row, slug in activities
        ],
        total=total or 0,
        lessons=[
            LessonState(
                lesson=slug,
                lesson_title=title(row.lesson_version_id, slug) or slug,
                status=row.status,
                step=row.step_index,
                started_at=row.started_at,
                updated_at=row.updated_at,
                completed_at=row.completed_at,
                best_score=row.best_score,
                passed=row.passed,
            )
            for row, slug in progress
        ],
        quizzes=[
            QuizResult(
                lesson=titles[attempt.lesson_version_id][0],
                lesson_title=titles[attempt.lesson_version_id][1],
                finished_at=attempt.finished_at,
                score=attempt.score,
                max_score=attempt.max_score,
                passed=attempt.passed,
                assisted=attempt.assisted_by_user_id is not None,
            )
            for attempt in attempts
            if attempt.finished_at is not None
        ],
    )
