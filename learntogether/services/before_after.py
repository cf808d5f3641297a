"""A learner's own awareness before and after: their pre-survey answers beside their post-survey.

Shown to the learner alone when they finish a track's post-survey, statement by statement: their
**first** answer to the pre-survey (as the awareness report pairs them) beside the answer they
just gave. Points are shown as answered (1–5, no flipping of ``reverse`` statements): the learner
reads their own words back, not a score.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.content.render import pick_text
from learntogether.content.schema import Survey
from learntogether.db.models import (
    Answer,
    Lesson,
    LessonStatus,
    LessonVersion,
    QuestionKind,
    QuizAttempt,
    User,
)
from learntogether.services import published


@dataclass(frozen=True)
class StatementChange:
    """One statement of the surveys, with the learner's point (1–5) before and now."""

    statement: str
    before: int
    after: int


async def _survey_lessons(session: AsyncSession, track_id: int) -> dict[Survey, int]:
    """The track's pre- and post-survey lessons, by their newest version's document."""
    rows = await session.execute(
        select(LessonVersion.lesson_id, LessonVersion.number, LessonVersion.document)
        .join(Lesson, Lesson.id == LessonVersion.lesson_id)
        .where(Lesson.track_id == track_id, Lesson.status != LessonStatus.ARCHIVED)
        .order_by(LessonVersion.lesson_id, LessonVersion.number)
    )
    newest: dict[int, dict[str, object]] = {}
    for lesson_id, _number, document in rows:
        newest[lesson_id] = document
    surveys: dict[Survey, int] = {}
    for lesson_id, document in newest.items():
        kind = document.get("survey")
        if kind in (Survey.PRE.value, Survey.POST.value):
            surveys.setdefault(Survey(kind), lesson_id)
    return surveys


async def _points(
    session: AsyncSession, *, learner: User, lesson_id: int, first: bool
) -> dict[str, int]:
    """The learner's first (or latest) likert point per statement in a survey lesson."""
    rows = await session.execute(
        select(Answer.question_key, Answer.choice)
        .join(QuizAttempt, QuizAttempt.id == Answer.attempt_id)
        .join(LessonVersion, LessonVersion.id == QuizAttempt.lesson_version_id)
        .where(
            QuizAttempt.user_id == learner.id,
            LessonVersion.lesson_id == lesson_id,
            Answer.kind == QuestionKind.LIKERT,
        )
        .order_by(Answer.id)
    )
    points: dict[str, int] = {}
    for key, choice in rows:
        if not choice:
            continue
        if first:
            points.setdefault(key, int(choice[0]))
        else:
            points[key] = int(choice[0])
    return points


async def own_before_after(
    session: AsyncSession,
    *,
    learner: User,
    version_id: int,
    track_id: int | None,
    chain: Sequence[str],
) -> tuple[StatementChange, ...]:
    """The learner's before and after, when ``version_id`` is a post-survey they just finished.

    Empty when the lesson is no post-survey, the track has no pre-survey, or the learner answered
    no statement in both. Statements come in the post-survey's order, worded in ``chain``.
    """
    # The version's document as the process keeps it (``published``): a finished quiz decoded
    # and validated the whole stored document to read one field.
    ref = await published.version_ref(session, version_id)
    if ref is None or track_id is None:
        return ()
    document = (await published.documents(session, [ref]))[ref.id]
    if document.survey is not Survey.POST:
        return ()
    pre_lesson = (await _survey_lessons(session, track_id)).get(Survey.PRE)
    if pre_lesson is None:
        return ()
    before = await _points(session, learner=learner, lesson_id=pre_lesson, first=True)
    after = await _points(session, learner=learner, lesson_id=ref.lesson_id, first=False)
    return tuple(
        StatementChange(pick_text(question.text, chain), before[question.key], after[question.key])
        for question in document.questions()
        if question.kind is QuestionKind.LIKERT and question.key in before and question.key in after
    )
