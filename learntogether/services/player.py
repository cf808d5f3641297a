"""Taking a lesson step by step: where the learner is, on the version they started.

A learner starts the newest published version; a lesson republished while they read it does not
move them. Buttons carry the progress and version they were made for, so a button from an older
version is recognised and answered politely instead of moving the learner somewhere else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.content.render import RenderedLesson, RenderedQuestion, render_lesson
from learntogether.content.schema import LessonDocument
from learntogether.db import activity_log as activity
from learntogether.db.models import (
    Lesson,
    LessonProgress,
    LessonStatus,
    LessonVersion,
    ProgressStatus,
    QuestionKind,
    User,
    Verb,
)
from learntogether.services.errors import DomainError, NotFound
from learntogether.services.lessons import published_versions

SCORED = (QuestionKind.SINGLE, QuestionKind.TRUE_FALSE, QuestionKind.MULTIPLE)


def is_correct(question: RenderedQuestion, chosen: Sequence[int]) -> bool | None:
    """Whether the chosen options are right; None when the question has no right answer.

    ``single`` and ``true_false`` are right when the one correct option is chosen, ``multiple``
    when exactly the correct options are (quizzes and reviews judge alike).
    """
    if QuestionKind(question.kind) not in SCORED:
        return None
    right = {index for index, option in enumerate(question.options) if option.correct}
    return set(chosen) == right


"""The question kinds with a right answer; ``likert`` and ``open`` have none."""


class StaleButton(DomainError):
    """A button made for another version or an older attempt than the learner's current one."""

    title = "Outdated button"

    def __init__(self, detail: str, *, lesson_id: int | None = None) -> None:
        super().__init__(detail)
        self.lesson_id = lesson_id


@dataclass(frozen=True)
class PlayerView:
    progress_id: int
    lesson_id: int
    track_id: int | None
    version_id: int
    step_index: int
    lesson: RenderedLesson
    completed: bool
    restarted: bool
    """The learner had finished the lesson and is reading it again."""

    @property
    def step_count(self) -> int:
        return len(self.lesson.steps)

    @property
    def is_last_step(self) -> bool:
        return self.step_index == self.step_count - 1

    @property
    def has_quiz(self) -> bool:
        return bool(self.lesson.questions)

    @property
    def graded(self) -> bool:
        """Whether the quiz has a question with a right answer (else it is a survey)."""
        return any(QuestionKind(question.kind) in SCORED for question in self.lesson.questions)


async def view_of(
    session: AsyncSession,
    progress: LessonProgress,
    chain: Sequence[str],
    *,
    restarted: bool = False,
) -> PlayerView:
    version = await session.get(LessonVersion, progress.lesson_version_id)
    lesson = await session.get(Lesson, progress.lesson_id)
    assert version is not None
    assert lesson is not None
    return PlayerView(
        progress_id=progress.id,
        lesson_id=progress.lesson_id,
        track_id=lesson.track_id,
        version_id=version.id,
        step_index=progress.step_index,
        lesson=render_lesson(LessonDocument.model_validate(version.document), chain),
        completed=progress.status is ProgressStatus.COMPLETED,
        restarted=restarted,
    )


async def open_lesson(
    session: AsyncSession,
    *,
    learner: User,
    lesson_id: int,
    chain: Sequence[str],
    assisted: bool = False,
) -> PlayerView:
    """Resume where the learner left the lesson, or start the newest published version."""
    lesson = await session.get(Lesson, lesson_id)
    if lesson is None or lesson.status is not LessonStatus.PUBLISHED:
        raise NotFound("This lesson is not offered any more.")
    progress = await session.scalar(
        select(LessonProgress).where(
            LessonProgress.user_id == learner.id, LessonProgress.lesson_id == lesson_id
        )
    )
    newest = (await published_versions(session, [lesson_id]))[lesson_id]
    if progress is not None and progress.status is ProgressStatus.IN_PROGRESS:
        return await view_of(session, progress, chain)
    restarted = progress is not None
    if progress is None:
        progress = LessonProgress(
            user_id=learner.id, lesson_id=lesson_id, lesson_version_id=newest.id
        )
        session.add(progress)
    else:
        # Reading a finished lesson again: the newest version, from the start; the result stays.
        progress.lesson_version_id, progress.step_index = newest.id, 0
    await session.flush()
    await activity.record(
        session,
        learner,
        Verb.STARTED,
        track_id=lesson.track_id,
        lesson_id=lesson_id,
        lesson_version_id=newest.id,
        assisted=assisted,
    )
    return await view_of(session, progress, chain, restarted=restarted)


async def own_progress(
    session: AsyncSession, *, learner: User, progress_id: int, version_id: int
) -> LessonProgress:
    """The learner's progress a button points at, refusing buttons of another version."""
    progress = await session.get(LessonProgress, progress_id)
    if progress is None or progress.user_id != learner.id:
        raise StaleButton("This button belongs to a lesson you no longer have open.")
    if progress.lesson_version_id != version_id:
        raise StaleButton(
            "This button is from an older version of the lesson.", lesson_id=progress.lesson_id
        )
    return progress


async def go_to_step(
    session: AsyncSession,
    *,
    learner: User,
    progress_id: int,
    version_id: int,
    index: int,
    chain: Sequence[str],
) -> PlayerView:
    """Move to step ``index`` (Next or Back); each step reached is recorded for the funnel."""
    progress = await own_progress(
        session, learner=learner, progress_id=progress_id, version_id=version_id
    )
    view = await view_of(session, progress, chain)
    index = max(0, min(index, view.step_count - 1))
    if index > progress.step_index:
        await activity.record(
            session,
            learner,
            Verb.STEP,
            track_id=view.track_id,
            lesson_id=progress.lesson_id,
            lesson_version_id=version_id,
            data={"step": index},
        )
    progress.step_index = index
    await session.flush()
    return await view_of(session, progress, chain)
