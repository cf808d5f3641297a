"""Reflections: what learners wrote or said to the open questions of their quizzes, and who
may read (or hear) it.

An open answer is the learner's own words, so it is read by fewer people than progress is: the
admins, and the mediators of a cohort the learner is a member of (they run the workshops where
the reflections are discussed). Viewers never: they read reports, which count and never quote.
An answer given by voice (``audio``) is heard by the same people (``reflection_audio``). The
privacy notice (``bot.texts.privacy_notice``) says so to every learner before they answer.
An erased learner's answers lose their text and voice (``learners.erase``), so they are not
listed.

Lesson titles and question texts come from the lesson version the learner answered, in the
reader's language (then English).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Boolean, ColumnElement, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.content.render import pick_text
from learntogether.content.schema import LessonDocument
from learntogether.db.models import (
    Answer,
    Lesson,
    LessonVersion,
    QuizAttempt,
    User,
    UserStatus,
)
from learntogether.i18n import SOURCE_LOCALE, locale_chain
from learntogether.services import lessons, media, users
from learntogether.services.actors import Actor
from learntogether.services.errors import NotFound


@dataclass(frozen=True)
class Reflection:
    """One answer to an open question, with what a reader needs to understand it."""

    id: int
    user_id: int
    learner_name: str
    lesson: str
    """The lesson's slug."""
    lesson_title: str
    question: str
    """The question's key."""
    question_text: str
    text: str
    """Empty for an answer given by voice."""
    audio: bool
    """Answered by voice: ``reflection_audio`` plays it."""
    answered_at: datetime


async def list_reflections(
    session: AsyncSession,
    *,
    actor: Actor,
    user_id: int | None = None,
    cohort: str | None = None,
    lesson: str | None = None,
    locale: str = SOURCE_LOCALE,
    limit: int,
    offset: int = 0,
) -> tuple[list[Reflection], int]:
    """One page of reflections, newest first, and how many there are: of one learner, the
    members of one cohort, one lesson's, or all the actor may read.

    Viewers are refused (NotAllowed); a learner beyond the actor's reach is LearnerNotFound, as
    on their page; a cohort beyond a mediator's reach NotAllowed; an unknown cohort or lesson
    InvalidInput naming the parameter.
    """
    search = await users.learner_filter(session, actor=actor, cohort=cohort)
    conditions: list[ColumnElement[bool]] = [
        *search.conditions,
        # Spelled as the partial index's predicate (``progress.REFLECTION``) is, with no bound
        # parameter, so PostgreSQL uses it.
        literal_column(
            "answers.kind = 'open' "
            "AND (answers.text IS NOT NULL OR answers.audio_sha256 IS NOT NULL)",
            Boolean,
        ),
        User.status != UserStatus.ERASED,
    ]
    if user_id is not None:
        await users.get_learner(session, actor=actor, user_id=user_id)
        conditions.append(User.id == user_id)
    if lesson is not None:
        lesson_id = await lessons.lesson_id_of(session, lesson)
        conditions.append(LessonVersion.lesson_id == lesson_id)
    query = (
        select(Answer, User.id, User.first_name, User.last_name, QuizAttempt.lesson_version_id)
        .join(QuizAttempt, QuizAttempt.id == Answer.attempt_id)
        .join(User, User.id == QuizAttempt.user_id)
        .join(LessonVersion, LessonVersion.id == QuizAttempt.lesson_version_id)
        .where(*conditions)
    )
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = (
        await session.execute(
            query.order_by(Answer.answered_at.desc(), Answer.id.desc()).limit(limit).offset(offset)
        )
    ).all()
    titles = await version_titles(session, {version_id for *_, version_id in rows}, locale)
    found = []
    for answer, learner_id, first_name, last_name, version_id in rows:
        slug, lesson_title, questions = titles[version_id]
        found.append(
            Reflection(
                id=answer.id,
                user_id=learner_id,
                learner_name=" ".join(part for part in (first_name, last_name) if part),
                lesson=slug,
                lesson_title=lesson_title,
                question=answer.question_key,
                question_text=questions.get(answer.question_key, answer.question_key),
                text=answer.text or "",
                audio=answer.audio_sha256 is not None,
                answered_at=answer.answered_at,
            )
        )
    return found, total


class ReflectionNotFound(NotFound):
    """No answer by voice with that id within the reader's reach."""


async def reflection_audio(session: AsyncSession, *, actor: Actor, reflection_id: int) -> bytes:
    """The voice note (OGG/Opus) a learner answered an open question with, for the same readers
    as ``list_reflections``: viewers NotAllowed; a learner beyond reach, an answer in writing or
    an erased one ReflectionNotFound."""
    actor.check_manages()
    found = (
        await session.execute(
            select(Answer.audio_sha256, QuizAttempt.user_id)
            .join(QuizAttempt, QuizAttempt.id == Answer.attempt_id)
            .join(User, User.id == QuizAttempt.user_id)
            .where(Answer.id == reflection_id, User.status != UserStatus.ERASED)
        )
    ).one_or_none()
    missing = f"No answer by voice with id {reflection_id}."
    if found is None or found.audio_sha256 is None:
        raise ReflectionNotFound(missing)
    try:
        await users.get_learner(session, actor=actor, user_id=found.user_id)
    except NotFound:
        raise ReflectionNotFound(missing) from None
    return await media.audio_bytes(session, found.audio_sha256)


async def version_titles(
    session: AsyncSession, version_ids: Sequence[int] | set[int], locale: str
) -> dict[int, tuple[str, str, dict[str, str]]]:
    """Each lesson version's slug, title and question texts by key, in ``locale`` (then English)."""
    if not version_ids:
        return {}
    chain = locale_chain(locale)
    rows = await session.execute(
        select(LessonVersion.id, Lesson.slug, LessonVersion.document)
        .join(Lesson, Lesson.id == LessonVersion.lesson_id)
        .where(LessonVersion.id.in_(version_ids))
    )
    titles = {}
    for version_id, slug, document in rows:
        parsed = LessonDocument.model_validate(document)
        texts = {question.key: pick_text(question.text, chain) for question in parsed.questions()}
        titles[version_id] = (slug, pick_text(parsed.title, chain), texts)
    return titles
