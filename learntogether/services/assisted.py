"""Assisted mode: a mediator enrols a parent who has no smartphone and records on their behalf.

Everything recorded here is flagged ``assisted`` in the activity record, so reports can show it
apart from what learners did themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.db.base import utcnow
from learntogether.db.models import Lesson, LessonStatus, Membership, Role, User, UserStatus
from learntogether.i18n import SOURCE_LOCALE, SUPPORTED_LOCALES, learner_locales
from learntogether.services import audit, learners, player, quizzes
from learntogether.services.actors import Actor
from learntogether.services.cohorts import find_in_scope
from learntogether.services.errors import FieldProblem, InvalidInput
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
            "Unknown language.", [FieldProblem("$.locale", f"'{data.locale}' is not offered")]
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
            "Answers can be recorded for members of the cohort only.",
            [FieldProblem("$.user_id", f"no member of this cohort has the id {user_id}")],
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
    lesson_id = await session.scalar(
        select(Lesson.id).where(Lesson.slug == data.lesson, Lesson.status == LessonStatus.PUBLISHED)
    )
    if lesson_id is None:
        raise InvalidInput(
            "No such lesson.", [FieldProblem("$.lesson", f"no published lesson '{data.lesson}'")]
        )
    chain = (await learners.locales(session, person, default_locale=default_locale)).content
    view = await player.open_lesson(
        session, learner=person, lesson_id=lesson_id, chain=chain, assisted=True
    )
    keys = [question.key for question in view.lesson.questions]
    given = {answer.key: answer for answer in data.answers}
    problems = [
        FieldProblem(f"$.answers[{index}].key", f"the lesson has no question '{answer.key}'")
        for index, answer in enumerate(data.answers)
        if answer.key not in keys
    ] + [
        FieldProblem("$.answers", f"question '{key}' has no answer")
        for key in keys
        if key not in given
    ]
    if not keys:
        problems.append(FieldProblem("$.lesson", "this lesson has no quiz"))
    if problems:
        raise InvalidInput("The answers do not match the lesson's quiz.", problems)
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
                "An answer does not fit its question.",
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
