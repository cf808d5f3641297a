"""Assisted mode: a mediator enrols a parent who has no smartphone and records on their behalf.

Everything recorded here is flagged ``assisted`` in the activity record, so reports can show it
apart from what learners did themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.content.render import RenderedLesson, pick_text
from learntogether.db.base import utcnow
from learntogether.db.models import (
    Lesson,
    LessonProgress,
    LessonStatus,
    Membership,
    ProgressStatus,
    Role,
    Track,
    User,
    UserStatus,
)
from learntogether.i18n import SOURCE_LOCALE, SUPPORTED_LOCALES, learner_locales
from learntogether.services import audit, learners, player, published, quizzes
from learntogether.services.actors import Actor
from learntogether.services.cohorts import find_in_scope
from learntogether.services.errors import N_, FieldProblem, InvalidInput
from learntogether.services.inputs import RowId


class ParticipantInput(BaseModel):
    """Someone who takes part through a mediator; only what the records need."""

    model_config = ConfigDict(extra="forbid")

    first_name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)
    ]
    role: Role = Role.PARENT
    locale: str | None = None


class AssistedAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: Annotated[str, StringConstraints(max_length=64)]
    choice: list[Annotated[int, Field(ge=0, le=100)]] = Field(
        default_factory=list,
        max_length=20,
        description="Option indexes from 0; for a likert question the one point 1 to 5",
    )
    text: Annotated[str, StringConstraints(max_length=2000)] | None = None


class AssistedQuiz(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: RowId
    lesson: str = Field(description="The lesson's slug", max_length=64)
    answers: list[AssistedAnswer] = Field(max_length=200)


@dataclass(frozen=True)
class Participant:
    user_id: int
    first_name: str
    role: Role


@dataclass(frozen=True)
class QuizLesson:
    """A published lesson with a quiz, titled in the reader's language."""

    slug: str
    title: str


@dataclass(frozen=True)
class PaperQuiz:
    """The quiz a member is about to have recorded, in the language they read."""

    user_id: int
    first_name: str | None
    lesson: RenderedLesson


@dataclass(frozen=True)
class AssistedResult:
    correct: int
    scored: int
    percent: int | None
    passed: bool
    certificate: bool


async def add_participant(
    session: AsyncSession,
    *,
    cohort_code: str,
    data: ParticipantInput,
    actor: Actor,
    default_locale: str = SOURCE_LOCALE,
) -> Participant:
    """Enrol someone without Telegram; the mediator took their consent in person.

    Without a language of their own they keep the one the locale policy gives them (the
    cohort's, else ``default_locale``).
    """
    cohort = await find_in_scope(session, cohort_code, actor)
    if data.locale is not None and data.locale not in SUPPORTED_LOCALES:
        raise InvalidInput(
            N_("Unknown language."),
            [FieldProblem("$.locale", N_("'{code}' is not offered", code=data.locale))],
        )
    now = utcnow()
    person = User(
        first_name=data.first_name,
        role=data.role,
        locale=learner_locales(data.locale, cohort.locale, default=default_locale).ui,
        consent_version=learners.PRIVACY_VERSION,
        consented_at=now,
        last_active_at=now,
        reminders_enabled=False,
    )
    session.add(person)
    await session.flush()
    await learners.join_cohort(session, learner=person, code=cohort.code, assisted=True)
    await audit.record_change(
        session,
        actor=actor,
        action="add_participant",
        entity="cohort",
        entity_id=cohort.code,
        after={"user_id": person.id, "role": data.role.value},
    )
    return Participant(person.id, data.first_name, data.role)


async def _member(session: AsyncSession, *, cohort_id: int, user_id: int) -> User:
    person = await session.scalar(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(User.id == user_id, Membership.cohort_id == cohort_id)
    )
    if person is None or person.status is UserStatus.ERASED:
        raise InvalidInput(
            N_("Answers can be recorded for members of the cohort only."),
            [FieldProblem("$.user_id", N_("no member of this cohort has the id {id}", id=user_id))],
        )
    return person


async def record_quiz(
    session: AsyncSession,
    *,
    cohort_code: str,
    data: AssistedQuiz,
    actor: Actor,
    default_locale: str = SOURCE_LOCALE,
) -> AssistedResult:
    """A whole quiz answered on paper or aloud, recorded for a cohort member in one go."""
    cohort = await find_in_scope(session, cohort_code, actor)
    person = await _member(session, cohort_id=cohort.id, user_id=data.user_id)
    lesson_id = (await _published(session, data.lesson)).id
    chain = (await learners.locales(session, person, default_locale=default_locale)).content
    view = await player.open_lesson(
        session, learner=person, lesson_id=lesson_id, chain=chain, assisted=True
    )
    keys = [question.key for question in view.lesson.questions]
    given = {answer.key: answer for answer in data.answers}
    problems = [
        FieldProblem(
            f"$.answers[{index}].key", N_("the lesson has no question '{key}'", key=answer.key)
        )
        for index, answer in enumerate(data.answers)
        if answer.key not in keys
    ] + [
        FieldProblem("$.answers", N_("question '{key}' has no answer", key=key))
        for key in keys
        if key not in given
    ]
    if not keys:
        problems.append(FieldProblem("$.lesson", N_("this lesson has no quiz")))
    if problems:
        raise InvalidInput(N_("The answers do not match the lesson's quiz."), problems)
    question = await quizzes.start_attempt(
        session,
        learner=person,
        progress_id=view.progress_id,
        version_id=view.version_id,
        chain=chain,
    )
    outcome = None
    for index, key in enumerate(keys):
        answer = given[key]
        try:
            outcome = await quizzes.answer(
                session,
                learner=person,
                attempt_id=question.attempt_id,
                index=index,
                chain=chain,
                chosen=answer.choice,
                text=answer.text,
                assisted=True,
            )
        except InvalidInput as error:
            position = [a.key for a in data.answers].index(key)
            raise InvalidInput(
                N_("An answer does not fit its question."),
                [FieldProblem(f"$.answers[{position}].choice", error.detail)],
            ) from None
    assert outcome is not None
    assert outcome.result is not None
    result = outcome.result
    await audit.record_change(
        session,
        actor=actor,
        action="assisted_quiz",
        entity="user",
        entity_id=str(person.id),
        after={"lesson": data.lesson, "passed": result.passed},
    )
    return AssistedResult(
        correct=result.correct,
        scored=result.scored,
        percent=result.percent,
        passed=result.passed,
        certificate=outcome.certificate_id is not None,
    )


async def quiz_lessons(session: AsyncSession, *, chain: Sequence[str]) -> list[QuizLesson]:
    """The published lessons that have a quiz, in curriculum order, titled along ``chain``."""
    found = list(
        await session.scalars(
            select(Lesson)
            .outerjoin(Track, Track.id == Lesson.track_id)
            .where(Lesson.status == LessonStatus.PUBLISHED)
            .order_by(Track.position.nulls_last(), Track.slug, Lesson.position, Lesson.slug)
        )
    )
    refs = await published.newest_published(session, [lesson.id for lesson in found])
    documents = await published.documents(session, refs.values())
    listed = []
    for lesson in found:
        document = documents[refs[lesson.id].id]
        if document.questions():
            listed.append(QuizLesson(lesson.slug, pick_text(document.title, chain)))
    return listed


async def _published(session: AsyncSession, slug: str) -> Lesson:
    lesson = await session.scalar(
        select(Lesson).where(Lesson.slug == slug, Lesson.status == LessonStatus.PUBLISHED)
    )
    if lesson is None:
        raise InvalidInput(
            N_("No such lesson."),
            [FieldProblem("$.lesson", N_("no published lesson '{slug}'", slug=slug))],
        )
    return lesson


async def paper_quiz(
    session: AsyncSession,
    *,
    cohort_code: str,
    user_id: int,
    lesson: str,
    actor: Actor,
    default_locale: str = SOURCE_LOCALE,
) -> PaperQuiz:
    """The questions ``record_quiz`` will take for this member: the version of the lesson they
    are in the middle of, else the newest published one, in the language they read."""
    cohort = await find_in_scope(session, cohort_code, actor)
    person = await _member(session, cohort_id=cohort.id, user_id=user_id)
    found = await _published(session, lesson)
    under_way = await session.scalar(
        select(LessonProgress.lesson_version_id).where(
            LessonProgress.user_id == person.id,
            LessonProgress.lesson_id == found.id,
            LessonProgress.status == ProgressStatus.IN_PROGRESS,
        )
    )
    ref = (
        await published.version_ref(session, under_way)
        if under_way is not None
        else (await published.newest_published(session, [found.id]))[found.id]
    )
    assert ref is not None
    chain = (await learners.locales(session, person, default_locale=default_locale)).content
    rendered = await published.rendered(session, ref, chain)
    if not rendered.questions:
        raise InvalidInput(
            N_("This lesson has no quiz."),
            [FieldProblem("$.lesson", N_("this lesson has no quiz"))],
        )
    return PaperQuiz(person.id, person.first_name, rendered)


async def quiz_sheet(
    session: AsyncSession,
    *,
    lesson: str,
    locale: str,
    actor: Actor,
    fallback_locale: str | None = None,
    default_locale: str = SOURCE_LOCALE,
) -> RenderedLesson:
    """A published lesson's quiz in ``locale`` to print for people who answer on paper: what is
    missing in it comes as for a learner who chose it in a cohort of ``fallback_locale``."""
    actor.check_manages()
    if locale not in SUPPORTED_LOCALES:
        raise InvalidInput(
            N_("Unknown language."),
            [FieldProblem("$.locale", N_("'{code}' is not offered", code=locale[:16]))],
        )
    found = await _published(session, lesson)
    ref = (await published.newest_published(session, [found.id]))[found.id]
    chain = learner_locales(locale, fallback_locale, default=default_locale).content
    rendered = await published.rendered(session, ref, chain)
    if not rendered.questions:
        raise InvalidInput(
            N_("This lesson has no quiz."),
            [FieldProblem("$.lesson", N_("this lesson has no quiz"))],
        )
    return rendered
